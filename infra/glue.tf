# A Glue table over the normalized reports (schema stsguard/report/v1), so that
# Athena can query every report with SQL.
#
# Partitions: `day` is projected (type date) from the key layout
# reports/v1/day=YYYY-MM-DD/..., so no crawler and no partition maintenance.
# `domain` is NOT a partition column: every report carries its domain in the
# JSON, Athena reads the domain=<d>/ folders under a day's location, and a
# projected or injected domain partition would either need the list of domains
# up front (enum) or force every query to name one domain (injected). A day of
# reports is small, so pruning by day is what matters. The JSON's own `day`
# member is not a data column: a partition column of that name holds the same
# value, taken from the key.

locals {
  reports_location = "s3://${aws_s3_bucket.data.id}/${local.reports_prefix}v1/"

  # The columns follow stsguard::report::NormalizedReport field by field.
  failure_type = join("", [
    "struct<",
    "result_type:string,known:boolean,count:bigint,sending_mta_ip:string,",
    "receiving_mx_hostname:string,receiving_mx_helo:string,receiving_ip:string,",
    "additional_information:string,failure_reason_code:string",
    ">",
  ])
  policy_type = join("", [
    "struct<",
    "policy_type:string,policy_domain:string,policy_strings:array<string>,mx_hosts:array<string>,",
    "sts:struct<mode:string,max_age:bigint,mx:array<string>>,",
    "successful:bigint,failed:bigint,failures:array<${local.failure_type}>",
    ">",
  ])
  source_type = join("", [
    "struct<",
    "channel:string,input:string,ses_message_id:string,raw_key:string,envelope_from:string,client:string,user_agent:string,",
    "from:string,message_id:string,subject:string,tls_report_domain:string,tls_report_submitter:string,",
    "verdicts:struct<dkim:string,dkim_domain:string,spf:string,dmarc:string,spam:string,virus:string>,",
    "attachment_name:string,media_type:string,compression:string,payload_sha256:string,payload_bytes:bigint",
    ">",
  ])

  report_columns = [
    { name = "schema", type = "string", comment = "always stsguard/report/v1" },
    { name = "id", type = "string", comment = "stable id: hash of (organization, report_id)" },
    { name = "report_id", type = "string", comment = "the sender's report-id" },
    { name = "organization", type = "string", comment = "the sender's organization-name" },
    { name = "contact_info", type = "string", comment = "the sender's contact-info" },
    { name = "start", type = "string", comment = "start of the reporting period, RFC 3339 UTC" },
    { name = "end", type = "string", comment = "end of the reporting period, RFC 3339 UTC (quote it: \"end\")" },
    { name = "domain", type = "string", comment = "the report's policy domain, lower case" },
    { name = "other_domains", type = "array<string>", comment = "the other policy domains the same report names (stored under each)" },
    { name = "policies", type = "array<${local.policy_type}>", comment = "one entry per evaluated policy" },
    { name = "source", type = local.source_type, comment = "where the report came from" },
    { name = "warnings", type = "array<struct<code:string,message:string>>", comment = "tolerances applied while reading" },
  ]
}

resource "aws_glue_catalog_database" "this" {
  name        = var.glue_database_name
  description = "stsguard: normalized SMTP TLS reports"
}

resource "aws_glue_catalog_table" "reports" {
  name          = var.glue_table_name
  database_name = aws_glue_catalog_database.this.name
  description   = "Normalized SMTP TLS reports (schema stsguard/report/v1), one JSON object per report"
  table_type    = "EXTERNAL_TABLE"

  parameters = {
    "EXTERNAL"                     = "TRUE"
    "classification"               = "json"
    "projection.enabled"           = "true"
    "projection.day.type"          = "date"
    "projection.day.format"        = "yyyy-MM-dd"
    "projection.day.range"         = "${var.projection_start_day},NOW"
    "projection.day.interval"      = "1"
    "projection.day.interval.unit" = "DAYS"
    "storage.location.template"    = "${local.reports_location}day=$${day}/"
  }

  partition_keys {
    name    = "day"
    type    = "string"
    comment = "UTC date of start (YYYY-MM-DD), from the key"
  }

  storage_descriptor {
    location      = local.reports_location
    input_format  = "org.apache.hadoop.mapred.TextInputFormat"
    output_format = "org.apache.hadoop.hive.ql.io.HiveIgnoreKeyTextOutputFormat"

    ser_de_info {
      name                  = "json"
      serialization_library = "org.openx.data.jsonserde.JsonSerDe"
      parameters = {
        "serialization.format"  = "1"
        "ignore.malformed.json" = "false"
      }
    }

    dynamic "columns" {
      for_each = local.report_columns
      content {
        name    = columns.value.name
        type    = columns.value.type
        comment = columns.value.comment
      }
    }
  }
}

resource "aws_athena_workgroup" "this" {
  count         = var.create_athena_workgroup ? 1 : 0
  name          = var.name
  description   = "stsguard: queries over the normalized reports"
  force_destroy = true
  tags          = local.tags

  configuration {
    enforce_workgroup_configuration    = true
    publish_cloudwatch_metrics_enabled = true

    result_configuration {
      output_location       = "s3://${aws_s3_bucket.data.id}/${local.athena_prefix}"
      expected_bucket_owner = local.account_id

      encryption_configuration {
        encryption_option = "SSE_S3"
      }
    }
  }
}
