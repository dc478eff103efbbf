# A complete deployment for one domain:
#   - tlsrpt.<domain> receives the reports through SES (identity + MX record),
#   - the stsguard module stores, normalizes and digests them,
#   - the mta-sts sub-module publishes the domain's MTA-STS policy and points
#     its _smtp._tls record at the report address,
#   - optionally (https_receiver = true), a function URL takes reports POSTed
#     to an rua=https: destination as well.
#
# Build the zips first (scripts/package.sh), then terraform init/plan/apply here.

locals {
  reports_domain = "tlsrpt.${var.domain}"
  report_address = "reports@${local.reports_domain}"
}

# SES identity of the reports subdomain: SES receives for it and the digest is
# sent from it. Its DKIM records verify it.
resource "aws_sesv2_email_identity" "reports" {
  email_identity = local.reports_domain
}

resource "aws_route53_record" "reports_dkim" {
  count   = 3
  zone_id = var.zone_id
  name    = "${aws_sesv2_email_identity.reports.dkim_signing_attributes[0].tokens[count.index]}._domainkey.${local.reports_domain}"
  type    = "CNAME"
  ttl     = 1800
  records = ["${aws_sesv2_email_identity.reports.dkim_signing_attributes[0].tokens[count.index]}.dkim.amazonses.com"]
}

# Mail for the reports subdomain goes to SES in var.region.
resource "aws_route53_record" "reports_mx" {
  zone_id = var.zone_id
  name    = local.reports_domain
  type    = "MX"
  ttl     = 3600
  records = ["10 ${module.stsguard.inbound_mx}"]
}

module "stsguard" {
  source = "../../"

  recipients     = [local.report_address]
  domains        = [var.domain]
  ingest_trigger = "lambda_action"

  ingest_package = "${path.module}/../../../dist/stsguard-ingest.zip"
  enable_digest  = var.enable_digest
  digest_package = var.enable_digest ? "${path.module}/../../../dist/stsguard-digest.zip" : null
  # Only x86_64 binaries are built by default; see docs/deploy.md for arm64.
  architecture = "x86_64"

  digest_from      = "stsguard@${local.reports_domain}"
  digest_to        = var.digest_to
  digest_time      = "07:00"
  digest_time_zone = "Europe/Berlin"

  # The HTTPS receiver (rua=https:), off unless https_receiver is true; it
  # needs dist/stsguard-receive.zip.
  https_receiver  = var.https_receiver
  receive_package = var.https_receiver ? "${path.module}/../../../dist/stsguard-receive.zip" : null
  receive_token   = var.receive_token

  alarm_sns_topic_arn = var.alarm_sns_topic_arn
  alert_emails        = var.alert_emails
  force_destroy       = false

  tags = { "env" = "example" }
}

module "mta_sts" {
  source = "../../modules/mta-sts"
  providers = {
    aws           = aws
    aws.us_east_1 = aws.us_east_1
  }

  domain     = var.domain
  zone_id    = var.zone_id
  mode       = "testing"
  max_age    = 604800
  mx         = var.mx
  tlsrpt_rua = ["mailto:${local.report_address}"]
  # With https_receiver = true, publish both destinations instead: senders may
  # use either or both, and a report that arrives both ways is stored once.
  #   tlsrpt_rua = ["mailto:${local.report_address}", module.stsguard.tlsrpt_https_rua]
  # (Left as a comment so that this module's plan, plan.json, does not depend
  # on the stsguard module's resources.)

  tags = { "env" = "example" }
}
