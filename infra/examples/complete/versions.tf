terraform {
  required_version = ">= 1.5.0"

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = ">= 6.0, < 7.0"
    }
  }
}

# SES receives mail only in some regions; eu-west-1 is one of them.
provider "aws" {
  region = var.region
}

# CloudFront certificates come from us-east-1.
provider "aws" {
  alias  = "us_east_1"
  region = "us-east-1"
}
