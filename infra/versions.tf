terraform {
  required_version = ">= 1.5.0"

  required_providers {
    aws = {
      source = "hashicorp/aws"
      # 6.28 is the first release whose aws_lambda_function_url, for
      # authorization_type NONE, also grants lambda:InvokeFunction through the
      # function URL, which new function URLs need besides
      # lambda:InvokeFunctionUrl (receive.tf).
      version = ">= 6.28, < 7.0"
    }
  }
}
