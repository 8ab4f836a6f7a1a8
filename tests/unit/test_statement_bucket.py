"""The statements bucket's reads of a key that is not there: S3 answers 404 to a role that may list the
bucket and 403 to one that may not, which is every function's role in AWS (botocore's Stubber plays S3)."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError
from botocore.stub import Stubber

from partnerpoints.dal.statement_files import StatementBucket
from partnerpoints.settings import Settings

ENVIRONMENT = {"AWS_REGION": "us-east-1", "STATEMENTS_BUCKET_NAME": "statements"}


@pytest.mark.parametrize(("code", "status"), [("NoSuchKey", 404), ("AccessDenied", 403)])
def test_a_missing_key_reads_as_absent_however_s3_words_it(code: str, status: int) -> None:
    bucket = StatementBucket(Settings.from_environment(ENVIRONMENT))
    with Stubber(bucket._s3) as s3:
        s3.add_client_error("get_object", service_error_code=code, http_status_code=status)
        s3.add_client_error("head_object", service_error_code=str(status), http_status_code=status)
        assert bucket.get_json("analytics/shop-a/latest.json") is None
        assert bucket.exists("statements/by-partner/shop-a/2026-11-30") is False


def test_any_other_failure_is_raised() -> None:
    bucket = StatementBucket(Settings.from_environment(ENVIRONMENT))
    with Stubber(bucket._s3) as s3:
        s3.add_client_error("get_object", service_error_code="SlowDown", http_status_code=503)
        with pytest.raises(ClientError):
            bucket.get_json("analytics/shop-a/latest.json")
