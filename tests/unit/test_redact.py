import logging

from lakeserve.redact import RedactingFilter, redact, register_secret


def test_registered_values_and_secret_shapes_are_masked():
    register_secret("s3cr3t-value")
    text = redact("token=abc123 Authorization: Bearer xyz.abc.def and s3cr3t-value dapi0123456789abcdef0")
    assert "s3cr3t-value" not in text
    assert "abc123" not in text
    assert "xyz.abc.def" not in text
    assert "dapi0123456789abcdef0" not in text


def test_log_filter_masks_arguments_and_tracebacks():
    register_secret("hunter2-hunter2")
    record = logging.LogRecord("x", logging.ERROR, __file__, 1, "login with %s", ("hunter2-hunter2",),
                               None)
    RedactingFilter().filter(record)
    assert "hunter2" not in record.getMessage()
