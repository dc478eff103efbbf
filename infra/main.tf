# stsguard: SES receives SMTP TLS reports (RFC 8460) into S3, the ingest function
# normalizes them, the digest function mails a daily summary, and a Glue table
# lets Athena query every normalized report.
#
# Layout of the one bucket (prefixes configurable):
#   <incoming_prefix><ses-message-id>                          raw mail (SES S3 action)
#   <store_prefix>reports/v1/day=YYYY-MM-DD/domain=<d>/<id>.json  normalized reports
#   <store_prefix>rejected/day=YYYY-MM-DD/<id>.json             rejection records
#   <store_prefix>rejected/day=YYYY-MM-DD/conflict-<id>-<sha>.json  conflicting redeliveries
#   <store_prefix>digests/day=YYYY-MM-DD.{json,html,eml,sent}   digests
#   <store_prefix>alerts/v1/domain=<d>/<rule>-<hash>.json      alerts (alerts.tf)
#   <store_prefix>raw/https/day=YYYY-MM-DD/<sha256>.body        bodies POSTed to the HTTPS receiver
#   athena-results/                                            Athena query results
#
# This file: shared values and the bucket. ses.tf, ingest.tf, digest.tf,
# receive.tf, alerts.tf, glue.tf and alarms.tf hold the rest.

data "aws_caller_identity" "current" {}
data "aws_partition" "current" {}
data "aws_region" "current" {}

locals {
  account_id = data.aws_caller_identity.current.account_id
  partition  = data.aws_partition.current.partition
  region     = data.aws_region.current.region

  bucket_name = coalesce(var.bucket_name, "${var.name}-${local.account_id}-${local.region}")
  bucket_arn  = "arn:${local.partition}:s3:::${local.bucket_name}"

  reports_prefix  = "${var.store_prefix}reports/"
  rejected_prefix = "${var.store_prefix}rejected/"
  digests_prefix  = "${var.store_prefix}digests/"
  alerts_prefix   = "${var.store_prefix}alerts/"
  athena_prefix   = "athena-results/"
  # Bodies received by the HTTPS receiver (receive.tf), kept as they came.
  raw_https_prefix = "${var.store_prefix}raw/https/"

  rule_name = var.name
  # Built from names rather than read from the rule, because the rule itself
  # depends on the bucket policy and the Lambda permission that name it.
  rule_arn = "arn:${local.partition}:ses:${local.region}:${local.account_id}:receipt-rule-set/${var.rule_set_name}:receipt-rule/${local.rule_name}"

  enable_digest = var.enable_digest

  tags = merge({ "app" = "stsguard" }, var.tags)
}

# ---------------------------------------------------------------------------
# Bucket

resource "aws_s3_bucket" "data" {
  #checkov:skip=CKV_AWS_18:Server access logs would need a second bucket; CloudTrail S3 data events are the audit trail to enable where one is required.
  #checkov:skip=CKV_AWS_144:Replication needs a second bucket in another region, a choice left to the deployment; without it a lost report can be re-created from raw mail only within raw_mail_expiration_days.
  #checkov:skip=CKV_AWS_145:SSE-S3 (AES-256) by design: a KMS key would need grants for SES's S3 action, the functions and every Athena user, and adds a monthly key charge.
  bucket        = local.bucket_name
  force_destroy = var.force_destroy
  tags          = local.tags
}

resource "aws_s3_bucket_ownership_controls" "data" {
  bucket = aws_s3_bucket.data.id

  rule {
    object_ownership = "BucketOwnerEnforced"
  }
}

resource "aws_s3_bucket_public_access_block" "data" {
  bucket                  = aws_s3_bucket.data.id
  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

resource "aws_s3_bucket_versioning" "data" {
  bucket = aws_s3_bucket.data.id

  versioning_configuration {
    status = "Enabled"
  }
}

resource "aws_s3_bucket_server_side_encryption_configuration" "data" {
  bucket = aws_s3_bucket.data.id

  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm = "AES256"
    }
  }
}

resource "aws_s3_bucket_lifecycle_configuration" "data" {
  bucket = aws_s3_bucket.data.id

  # Raw mail is kept only long enough to replay it.
  rule {
    id     = "expire-raw-mail"
    status = "Enabled"

    filter {
      prefix = var.incoming_prefix
    }

    expiration {
      days = var.raw_mail_expiration_days
    }
  }

  # So are the bodies received over HTTPS: the normalized report or the
  # rejection record is what stays.
  rule {
    id     = "expire-raw-https-bodies"
    status = "Enabled"

    filter {
      prefix = local.raw_https_prefix
    }

    expiration {
      days = var.raw_mail_expiration_days
    }
  }

  rule {
    id     = "expire-athena-results"
    status = var.create_athena_workgroup ? "Enabled" : "Disabled"

    filter {
      prefix = local.athena_prefix
    }

    expiration {
      days = var.athena_results_expiration_days
    }
  }

  # Reports, rejection records, digests and alerts have no expiration. Every
  # prefix: old versions go, and so do abandoned multipart uploads.
  rule {
    id     = "noncurrent-versions-and-uploads"
    status = "Enabled"

    filter {}

    noncurrent_version_expiration {
      noncurrent_days = var.noncurrent_version_expiration_days
    }

    expiration {
      expired_object_delete_marker = true
    }

    abort_incomplete_multipart_upload {
      days_after_initiation = 1
    }
  }

  depends_on = [aws_s3_bucket_versioning.data]
}

data "aws_iam_policy_document" "bucket" {
  statement {
    sid       = "DenyInsecureTransport"
    effect    = "Deny"
    actions   = ["s3:*"]
    resources = [local.bucket_arn, "${local.bucket_arn}/*"]

    principals {
      type        = "*"
      identifiers = ["*"]
    }

    condition {
      test     = "Bool"
      variable = "aws:SecureTransport"
      values   = ["false"]
    }
  }

  statement {
    sid       = "AllowSesPutIncomingMail"
    effect    = "Allow"
    actions   = ["s3:PutObject"]
    resources = ["${local.bucket_arn}/${var.incoming_prefix}*"]

    principals {
      type        = "Service"
      identifiers = ["ses.amazonaws.com"]
    }

    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [local.account_id]
    }

    condition {
      test     = "ArnLike"
      variable = "aws:SourceArn"
      values   = [local.rule_arn]
    }
  }
}

resource "aws_s3_bucket_policy" "data" {
  bucket = aws_s3_bucket.data.id
  policy = data.aws_iam_policy_document.bucket.json

  depends_on = [aws_s3_bucket_public_access_block.data]
}
