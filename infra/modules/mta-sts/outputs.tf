# Outputs of the mta-sts sub-module. infra/README.md lists them.

output "policy" {
  description = "The policy file's exact text (CRLF line ends), as served at policy_url."
  value       = local.policy
}

output "policy_id" {
  description = "The id in the _mta-sts record: the first 32 hex digits of the SHA-256 of the policy text."
  value       = local.policy_id
}

output "policy_url" {
  description = "Where senders fetch the policy."
  value       = "https://${local.host}/.well-known/mta-sts.txt"
}

output "sts_record" {
  description = "Name and text of the _mta-sts TXT record."
  value       = { name = aws_route53_record.sts.name, value = local.sts_record }
}

output "tlsrpt_record" {
  description = "Name and text of the _smtp._tls TXT record (null when create_tlsrpt_record is false)."
  value       = var.create_tlsrpt_record ? { name = "_smtp._tls.${var.domain}", value = local.tlsrpt_record } : null
}

output "bucket_name" {
  description = "The S3 bucket that holds the policy file."
  value       = aws_s3_bucket.policy.id
}

output "distribution_id" {
  description = "ID of the CloudFront distribution of the policy host."
  value       = aws_cloudfront_distribution.policy.id
}

output "distribution_domain_name" {
  description = "CloudFront domain name that mta-sts.<domain> points to."
  value       = aws_cloudfront_distribution.policy.domain_name
}

output "certificate_arn" {
  description = "ARN of the ACM certificate of mta-sts.<domain> (us-east-1)."
  value       = aws_acm_certificate.host.arn
}
