output "report_address" {
  description = "The address in the _smtp._tls record, received by SES."
  value       = local.report_address
}

output "bucket_name" {
  description = "The stsguard bucket."
  value       = module.stsguard.bucket_name
}

output "digest_function_name" {
  description = "Invoke it with {\"day\": \"YYYY-MM-DD\"} to backfill a digest."
  value       = module.stsguard.digest_function_name
}

output "athena_table" {
  description = "The reports table, as <database>.<table>."
  value       = "${module.stsguard.glue_database_name}.${module.stsguard.glue_table_name}"
}

output "policy_url" {
  description = "Where senders fetch the MTA-STS policy."
  value       = module.mta_sts.policy_url
}

output "sts_record" {
  description = "The _mta-sts TXT record."
  value       = module.mta_sts.sts_record
}

output "tlsrpt_https_rua" {
  description = "The https: destination for the _smtp._tls record (null without the receiver): terraform output -raw tlsrpt_https_rua."
  value       = module.stsguard.tlsrpt_https_rua
  sensitive   = true
}
