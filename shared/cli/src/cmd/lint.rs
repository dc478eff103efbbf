//! `stsguard lint --domain`: one domain's records, policy and MX set, without
//! Terraform.

// An edge module: it reads the policy file.
#![allow(clippy::disallowed_methods)]

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result};
use stsguard::lint::config::ZoneMapping;
use stsguard::lint::{lint_domain, lint_plan_with, DomainInput, Finding, LintConfig, MxSet};
use stsguard::records::parse_presentation;

use crate::args::{read_file, LiveArgs};
use crate::output::{emit, FindingsArgs};

pub(crate) const LONG_ABOUT: &str = "\
Lint MTA-STS and TLSRPT deployments before they ship: a Terraform plan, or one
domain's parts given directly: the TXT records
at _mta-sts and _smtp._tls, the mta-sts.txt policy, and the MX set, exactly as DNS
and HTTPS would serve them. Findings use the stable rule IDs of the catalogue
(STS*, TLR*, POL*, XCK*), each with a one-line message and help.

Parts that are not given are not guessed: the checks that need them are skipped.
The MX cross-checks (every MX host covered by an mx pattern: XCK001; the bare
domain when there is no MX: XCK002) run when the policy is testing or enforce and
the MX set is given with --mx or --no-mx.

Examples:
  stsguard lint --domain example.com --policy mta-sts.txt \\
      --sts-record 'v=STSv1; id=20240601T000000' \\
      --tlsrpt-record 'v=TLSRPTv1; rua=mailto:tlsrpt@example.com' \\
      --mx mx1.example.com --mx mx2.example.com
  stsguard lint --domain example.com --sts-record '\"v=STSv1; id=2024\" \"0601\"'

With a Terraform plan (terraform show -json plan.out > plan.json), every domain
the plan gives an _mta-sts or _smtp._tls record or an mta-sts.txt object is
linted, findings name the resource address, and the plan's before/after values
add XCK004 (policy changed but id not), XCK005 (id and policy changed in one
apply with nothing ordering the record after the file), XCK007 (removal without
the none step), XCK008 (enforce without testing first) and STS001 (record
removed while the policy stays). Route 53, Cloudflare, Google Cloud DNS, Azure DNS and
DigitalOcean records; S3, GCS, Azure blob and local_file policy objects. What
the plan cannot tell is a finding, never a guess: PLN001 (a warning) policy
file or record not attributed to a domain, so nothing was checked for it;
PLN002 value known only after apply, PLN003 value not in the plan, PLN004 check
skipped for lack of data, PLN005 value read leniently (info).

Records of a hosted zone managed elsewhere (only a zone_id in the plan) are
placed by the plan's zone resource, else by their own names when they end in
one of them (the apex); else map the zone: --zone ZONE_ID=example.com or
[[zone]] in the configuration file. In a zone the plan creates, a record the
plan lacks does not exist (TLR001 for a missing _smtp._tls record).

--live (with a plan) also asks DNS and the policy hosts what they serve today,
for every domain of the plan, and adds the NET rules of `stsguard check` and the
comparisons only the live side allows: XCK004 the policy after the apply
differs from the one served but the _mta-sts id stays the live one (also when
the plan does not touch the TXT record); XCK005 the id moves ahead of the
policy (the live id already is the new one while the old policy is served, or
the id changes while the host serves something else than the plan's file);
XCK006 a new MX host that the policy senders have cached does not cover (XCK001
when the plan leaves that policy as it is); XCK007 removal while the live mode
is testing or enforce. --resolver, --ca-file, --no-smtp, --smtp-port and
--timeout work as for `stsguard check`; on CI runners, where port 25 is
usually blocked, add --no-smtp.

--config FILE (TOML; see shared/examples/stsguard.toml):
  domains = [\"example.com\"]        lint only these policy domains
  [rules]  STS009 = \"error\"        severity per rule: error, warning, info, off
  [[policy]]  address = \"ADDR\" (or location = \"BUCKET/KEY\"), domain = \"D\"
                                    attribute a policy file to its domain
  [[zone]]  id = \"ZONE_ID\", domain = \"D\"    a zone managed outside the plan
  [[ignore]]  rule = \"ID\" (or \"*\"), domain = \"D\", address = \"ADDR\" (a
              trailing * matches a prefix), reason = \"...\"
Unknown keys, rule IDs and severities are errors (exit 2).

Exit status: 0 when no finding is at or above --fail-on, 1 when one is, 2 when
the invocation or an input file is unusable.";

/// Arguments of `stsguard lint`.
#[derive(Debug, clap::Args)]
#[command(group(clap::ArgGroup::new("what").required(true).args(["plan", "domain"])))]
pub(crate) struct Args {
    /// A Terraform plan as JSON: `terraform show -json plan.out > plan.json` (OpenTofu too).
    #[arg(value_name = "PLAN.json", conflicts_with_all = ["domain"])]
    plan: Option<PathBuf>,

    /// Lint one domain from the parts given below instead of a plan.
    #[arg(long, value_name = "DOMAIN")]
    domain: Option<String>,

    /// A TXT record at _mta-sts.DOMAIN, once per record. Its text, or its
    /// character-strings as dig prints them ("v=STSv1; id=2024" "0601").
    #[arg(long = "sts-record", value_name = "TXT", requires = "domain")]
    sts_records: Vec<String>,

    /// A TXT record at _smtp._tls.DOMAIN, once per record (same forms).
    #[arg(long = "tlsrpt-record", value_name = "TXT", requires = "domain")]
    tlsrpt_records: Vec<String>,

    /// The mta-sts.txt body, read byte-exact.
    #[arg(long, value_name = "FILE", requires = "domain")]
    policy: Option<PathBuf>,

    /// An MX host of the domain, once per MX record; `.` is a null MX (RFC 7505).
    #[arg(
        long = "mx",
        value_name = "HOST",
        conflicts_with = "no_mx",
        requires = "domain"
    )]
    mx: Vec<String>,

    /// The domain has no MX records (mail then goes to the domain itself).
    #[arg(long, requires = "domain")]
    no_mx: bool,

    /// A lint configuration (TOML): domains, policy-file and zone mapping, severities, ignores.
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,

    /// The name of a hosted zone that records refer to by id and the plan does
    /// not hold (managed elsewhere), e.g. --zone Z0123456789=example.com; repeat
    /// for several. Same as `[[zone]]` in the configuration file.
    #[arg(long = "zone", value_name = "ID=DOMAIN", requires = "plan", value_parser = parse_zone)]
    zones: Vec<(String, String)>,

    /// Also compare the plan with what DNS, the policy hosts and the MX hosts
    /// serve today, and run the NET rules on it (network access needed).
    #[arg(long)]
    live: bool,

    #[command(flatten)]
    live_args: LiveArgs,

    #[command(flatten)]
    output: FindingsArgs,
}

/// `ID=DOMAIN` of `--zone`.
fn parse_zone(s: &str) -> Result<(String, String), String> {
    let Some((id, domain)) = s.split_once('=') else {
        return Err(format!("{s:?} is not ID=DOMAIN"));
    };
    let (id, domain) = (id.trim(), stsguard::names::normalize(domain));
    if id.is_empty() || id.contains(char::is_whitespace) {
        return Err(format!("{id:?} is not a zone id"));
    }
    if !stsguard::names::is_domain_argument(&domain) {
        return Err(format!("{domain:?} is not a domain name"));
    }
    Ok((id.to_owned(), domain))
}

/// A policy file larger than this is not read further (senders read 64 KiB).
const MAX_POLICY_FILE: u64 = 1 << 20;

pub(crate) fn run(args: Args) -> Result<ExitCode> {
    if args.live && args.plan.is_none() {
        anyhow::bail!("--live compares a plan with what is served: give a PLAN.json (for one live domain, use `stsguard check DOMAIN`)");
    }
    if !args.live && args.live_args.any_given() {
        anyhow::bail!("--resolver, --ca-file, --no-smtp, --smtp-port and --timeout apply only with --live");
    }
    let mut config = match &args.config {
        Some(path) => read_config(path)?,
        None => LintConfig::default(),
    };
    for (i, (id, domain)) in args.zones.iter().enumerate() {
        config
            .add_zone(ZoneMapping {
                id: id.clone(),
                domain: domain.clone(),
                line: None,
                column: None,
                key: format!("--zone #{}", i + 1),
            })
            .map_err(|e| anyhow::anyhow!("{e}"))?;
    }
    let (findings, label, artifact) = match (&args.plan, &args.domain) {
        (Some(plan), _) => {
            let json = read_file(plan, stsguard::plan::MAX_PLAN_BYTES as u64 + 1, "the plan")?;
            let parsed = stsguard::plan::read_plan_with(&json, &config.plan_options())
                .with_context(|| format!("{}", plan.display()))?;
            drop(json);
            if let Err(e) = config.check_zones(&parsed) {
                match (&args.config, e.line) {
                    (Some(file), Some(_)) => anyhow::bail!("{}: {e}", file.display()),
                    _ => anyhow::bail!("{e}"),
                }
            }
            let name = plan.display().to_string();
            let findings = if args.live {
                let domains = stsguard::lint::plan_domains(&parsed, &config);
                let live = args.live_args.gather(&domains)?;
                stsguard::live::compare::lint_plan_live(&parsed, &config, &live)
            } else {
                lint_plan_with(&parsed, &config)
            };
            (findings, name.clone(), name)
        }
        (None, Some(domain)) => {
            let artifact = args
                .policy
                .as_ref()
                .map_or_else(|| format!("mta-sts/{domain}"), |p| p.display().to_string());
            (
                config.apply_overrides(lint_parts(&args, domain)?),
                domain.clone(),
                artifact,
            )
        }
        (None, None) => anyhow::bail!("give a PLAN.json or --domain"),
    };
    report(&args, &findings, &label, &artifact)
}

/// Reads and parses `--config`; errors name the file, then the line and key.
pub(crate) fn read_config(path: &std::path::Path) -> Result<LintConfig> {
    let bytes = read_file(
        path,
        stsguard::lint::config::MAX_CONFIG_BYTES as u64 + 1,
        "the config",
    )?;
    let text = String::from_utf8(bytes).map_err(|e| {
        anyhow::anyhow!(
            "{}: not UTF-8 (byte {})",
            path.display(),
            e.utf8_error().valid_up_to()
        )
    })?;
    LintConfig::parse(&text).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))
}

fn lint_parts(args: &Args, domain: &str) -> Result<Vec<Finding>> {
    let policy = match &args.policy {
        Some(path) => Some(read_file(path, MAX_POLICY_FILE, "the policy")?),
        None => None,
    };
    let records = |list: &[String]| {
        (!list.is_empty()).then(|| list.iter().map(|t| parse_presentation(t)).collect::<Vec<_>>())
    };
    let mx = if args.no_mx {
        MxSet::NoMx
    } else if args.mx.iter().any(|m| m.trim() == ".") {
        MxSet::Null
    } else if args.mx.is_empty() {
        MxSet::Unknown
    } else {
        MxSet::Hosts(args.mx.clone())
    };
    Ok(lint_domain(&DomainInput {
        domain: domain.to_owned(),
        sts_records: records(&args.sts_records),
        tlsrpt_records: records(&args.tlsrpt_records),
        policy,
        mx,
    }))
}

fn report(args: &Args, findings: &[Finding], label: &str, artifact: &str) -> Result<ExitCode> {
    let file = (args.plan.is_some() || args.policy.is_some()).then_some(artifact);
    emit(
        &args.output,
        findings,
        label,
        artifact,
        file,
        &mut crate::output::stdout(),
    )
}
