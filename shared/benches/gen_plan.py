#!/usr/bin/env python3
"""Write a synthetic `terraform show -json` plan for the lint benchmark.

Usage: gen_plan.py OUT [--resources N] [--seed S]

N (default 20,000) managed resource instances in planned_values, written as
compact one-line JSON like `terraform show -json` does (40.6 MB at 20,000).
The mix is what a real mail-and-web estate looks like to stsguard:

* module.mail["<domain>"] per mail domain (Route 53): the zone (a data source in
  prior_state), MX, `_mta-sts` TXT, `_smtp._tls` TXT, the `mta-sts` host (A),
  SPF and an apex A record, with zone-relative names resolved through the
  zone_id reference in `configuration`; nested module.policy: the bucket
  `mta-sts.<domain>` and its `.well-known/mta-sts.txt` object;
* module.edge: cloudflare_record.this["<name>"] for the Cloudflare-hosted
  domains (A, CNAME, MX, TXT incl. `_mta-sts` and `_smtp._tls`);
* module.service["svc-NNNN"] (unrelated to mail): IAM roles, Lambda functions,
  an artifacts bucket, aws_s3_object.artifact[0..k] and a nested module.storage
  with its own bucket and objects; every third service has an API A record;
* root-level padding: aws_s3_object.static[i] up to exactly N.

About 3% of the mail domains carry a deliberate mistake (an MX host the policy
does not cover, a policy changed without a new id, a bad id, a TXT record at
the wrong name, a short TTL) so that the linter has findings to write.
Actions: about 90% no-op, 5% update, 3.5% create, 1.5% replace.
Prints a JSON line with the counts.
"""
import argparse
import hashlib
import json
import random

AWS = "registry.terraform.io/hashicorp/aws"
CF = "registry.terraform.io/cloudflare/cloudflare"


def action(rng):
    r = rng.random()
    if r < 0.90:
        return ["no-op"]
    if r < 0.95:
        return ["update"]
    if r < 0.985:
        return ["create"]
    return ["delete", "create"]


def tags(svc, team):
    return {"Environment": "prod", "ManagedBy": "terraform", "Service": svc, "Team": team}


class Out:
    def __init__(self, rng):
        self.rng = rng
        self.insts = []  # (module, type, name, index, values, provider, computed)

    def add(self, module, typ, name, values, index=None, provider=AWS, computed=("id",)):
        self.insts.append((module, typ, name, index, values, provider, list(computed)))


def addr(module, typ, name, index):
    a = f"{module}.{typ}.{name}" if module else f"{typ}.{name}"
    if index is None:
        return a
    return a + (f"[{index}]" if isinstance(index, int) else f"[{json.dumps(index)}]")


def r53(zone_id, name, typ, records, ttl=300):
    return {"alias": [], "allow_overwrite": None, "failover_routing_policy": [], "fqdn": None,
            "geolocation_routing_policy": [], "health_check_id": "", "id": None,
            "latency_routing_policy": [], "multivalue_answer_routing_policy": False, "name": name,
            "records": records, "set_identifier": "", "ttl": ttl, "type": typ,
            "weighted_routing_policy": [], "zone_id": zone_id}


def policy_text(domain, hosts, mode="enforce"):
    lines = ["version: STSv1", f"mode: {mode}"] + [f"mx: {h}" for h in hosts] + ["max_age: 1209600"]
    return "\r\n".join(lines) + "\r\n"


def s3_object(bucket, key, content=None, source=None, t=None, ctype="application/json"):
    return {"bucket": bucket, "cache_control": "", "content": content, "content_base64": None,
            "content_type": ctype, "etag": hashlib.md5(key.encode()).hexdigest(), "id": key,
            "key": key, "source": source, "storage_class": "STANDARD", "tags": t or {}}


def s3_bucket(name, t):
    return {"bucket": name, "arn": f"arn:aws:s3:::{name}", "force_destroy": False, "id": name,
            "region": "us-east-1", "tags": t}


def iam_role(name, t):
    doc = json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {
        "Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}]}, separators=(",", ":"))
    return {"arn": f"arn:aws:iam::123456789012:role/{name}", "assume_role_policy": doc, "description": "",
            "force_detach_policies": False, "id": name, "max_session_duration": 3600, "name": name, "path": "/",
            "permissions_boundary": None, "tags": t}


def lambda_fn(name, role, bucket, t, rng):
    return {"architectures": ["arm64"], "function_name": name, "handler": "bootstrap", "id": name,
            "memory_size": rng.choice([128, 256, 512]), "package_type": "Zip", "role": role,
            "runtime": "provided.al2023", "s3_bucket": bucket, "s3_key": f"{name}.zip", "timeout": 30,
            "environment": [{"variables": {"RUST_LOG": "info", "BUCKET": bucket, "STAGE": "prod"}}],
            "source_code_hash": "%064x" % rng.getrandbits(256), "tags": t,
            "tracing_config": [{"mode": "PassThrough"}], "vpc_config": []}


def build(n, seed):
    rng = random.Random(seed)
    out = Out(rng)
    data = []  # data sources in prior_state: (module, zone name, zone id)
    config_mail = None
    n_mail = max(2, n // 80)  # 250 mail domains at 20k
    n_cf = max(1, n // 400)  # 50 Cloudflare-hosted domains at 20k
    mistakes = {}
    for d in range(n_mail):
        domain = f"mail{d:04d}.example.com"
        mod = f'module.mail["{domain}"]'
        zone_id = "Z%013d" % d
        data.append((mod, domain, zone_id))
        hosts = [f"mx{i}.{domain}" for i in (1, 2)]
        kind = d % 33 if d % 33 < 5 else None
        mistakes[kind] = mistakes.get(kind, 0) + 1
        mx = hosts + ([f"mx3.{domain}"] if kind == 0 else [])
        sts_id = "2024-06-01" if kind == 2 else "20240601"
        out.add(mod, "aws_route53_record", "mx", r53(zone_id, "", "MX", [f"{10 * (i + 1)} {h}" for i, h in enumerate(mx)]))
        out.add(mod, "aws_route53_record", "sts", r53(zone_id, "_mta-sts" if kind != 3 else "_mta_sts",
                                                      "TXT", [f"v=STSv1; id={sts_id}"], ttl=60 if kind == 4 else 300))
        out.add(mod, "aws_route53_record", "tlsrpt", r53(zone_id, "_smtp._tls", "TXT",
                                                         [f"v=TLSRPTv1; rua=mailto:tlsrpt@{domain}"], ttl=86400))
        out.add(mod, "aws_route53_record", "mta_sts_host", r53(zone_id, "mta-sts", "A", ["192.0.2.10"]))
        out.add(mod, "aws_route53_record", "spf", r53(zone_id, "", "TXT", ["v=spf1 include:_spf.example.net -all"]))
        out.add(mod, "aws_route53_record", "apex", r53(zone_id, "", "A", [f"198.51.100.{d % 250 + 1}"]))
        pmod = mod + ".module.policy"
        bucket = f"mta-sts.{domain}"
        out.add(pmod, "aws_s3_bucket", "site", s3_bucket(bucket, tags("mail", "postmaster")))
        body = policy_text(domain, hosts)
        obj = s3_object(bucket, ".well-known/mta-sts.txt", content=body, ctype="text/plain")
        out.add(pmod, "aws_s3_object", "policy", obj)
        if kind == 1:  # the policy changes (an mx added), the id does not
            out.insts[-1] = out.insts[-1] + ({"content": policy_text(domain, hosts[:1])},)
    for c in range(n_cf):
        domain = f"cf{c:03d}.example.org"
        for name, typ, content, prio in [
            (domain, "MX", f"mx.{domain}", 10),
            (f"_mta-sts.{domain}", "TXT", "v=STSv1; id=20240601", None),
            (f"_smtp._tls.{domain}", "TXT", f"v=TLSRPTv1; rua=mailto:tls@{domain}", None),
            (f"www.{domain}", "CNAME", f"{domain}.cdn.example.net", None),
            (domain, "A", "203.0.113.7", None),
        ]:
            out.add("module.edge", "cloudflare_record", "this", {
                "allow_overwrite": False, "comment": None, "content": content, "name": name,
                "priority": prio, "proxied": False, "tags": [], "ttl": 3600, "type": typ, "zone_id": "cf%030d" % c,
                "hostname": name}, index=f"{name}/{typ}", provider=CF, computed=("id", "hostname"))
    teams = ["payments", "search", "identity", "growth", "infra", "data"]
    s = 0
    while len(out.insts) < n // 2:
        svc = f"svc-{s:04d}"
        t = tags(svc, teams[s % len(teams)])
        mod = f'module.service["{svc}"]'
        art = f"{svc}-artifacts"
        role = iam_role(f"{svc}-exec", t)
        out.add(mod, "aws_iam_role", "exec", role)
        out.add(mod, "aws_lambda_function", "handler", lambda_fn(f"{svc}-handler", role["arn"], art, t, rng))
        out.add(mod, "aws_s3_bucket", "artifacts", s3_bucket(art, t))
        for i in range(8):
            out.add(mod, "aws_s3_object", "artifact", s3_object(art, f"{svc}/assets/{i:03d}.json",
                                                                source=f"build/{svc}/{i:03d}.json", t=t), index=i)
        if s % 3 == 0:
            out.add(mod, "aws_route53_record", "api", r53("Z9999999999999", f"{svc}.api.example.com", "A",
                                                          [f"192.0.2.{s % 250 + 1}"]), index=0)
        smod = mod + ".module.storage"
        out.add(smod, "aws_s3_bucket", "this", s3_bucket(f"{svc}-data", t))
        for k in ("seed/users.csv", "seed/plans.csv"):
            out.add(smod, "aws_s3_object", "seed", s3_object(f"{svc}-data", k, source=k, t=t, ctype="text/csv"),
                    index=k)
        s += 1
    i = 0
    while len(out.insts) < n:
        out.add("", "aws_s3_object", "static", s3_object("www-static", f"assets/{i:05d}.css",
                                                          source=f"static/{i:05d}.css", ctype="text/css"), index=i)
        i += 1
    del out.insts[n:]
    return out, data, s, mistakes


def module_tree(items):
    root = {"resources": []}
    mods = {}

    def node(a):
        if not a:
            return root
        if a not in mods:
            parent = a.rsplit(".module.", 1)[0] if ".module." in a else ""
            mods[a] = {"resources": [], "address": a}
            node(parent).setdefault("child_modules", []).append(mods[a])
        return mods[a]

    for module, res in items:
        node(module)["resources"].append(res)
    return root


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("out")
    ap.add_argument("--resources", type=int, default=20000)
    ap.add_argument("--seed", type=int, default=8461)
    a = ap.parse_args()
    rng = random.Random(a.seed + 1)
    out, data, services, mistakes = build(a.resources, a.seed)
    planned, changes, prior = [], [], []
    actions = {}
    for inst in out.insts:
        module, typ, name, index, values, provider, computed = inst[:7]
        before_override = inst[7] if len(inst) > 7 else None
        act = ["update"] if before_override else action(rng)
        actions[",".join(act)] = actions.get(",".join(act), 0) + 1
        address = addr(module, typ, name, index)
        res = {"address": address, "mode": "managed", "type": typ, "name": name}
        if index is not None:
            res["index"] = index
        res.update({"provider_name": provider, "schema_version": 0, "values": values, "sensitive_values": {}})
        planned.append((module, res))
        before = None if act == ["create"] else dict(values, **(before_override or {}))
        if act == ["update"] and not before_override:
            before["tags"] = dict(values.get("tags") or {}, Team="legacy")
        after_unknown = {k: True for k in computed} if act in (["create"], ["delete", "create"]) else {}
        ch = {"address": address}
        if module:
            ch["module_address"] = module
        ch.update({"mode": "managed", "type": typ, "name": name})
        if index is not None:
            ch["index"] = index
        ch.update({"provider_name": provider, "change": {
            "actions": act, "before": before, "after": values, "after_unknown": after_unknown,
            "before_sensitive": False if before is None else {}, "after_sensitive": {}}})
        changes.append(ch)
        if before is not None:
            prior.append((module, dict(res, values=before)))
    for module, zone, zid in data:
        prior.append((module, {"address": f"{module}.data.aws_route53_zone.this", "mode": "data",
                               "type": "aws_route53_zone", "name": "this", "provider_name": AWS,
                               "schema_version": 0, "values": {"id": zid, "zone_id": zid, "name": zone},
                               "sensitive_values": {}}))
    zone_ref = {"references": ["data.aws_route53_zone.this.zone_id", "data.aws_route53_zone.this"]}
    mail_module = {"resources": [
        {"address": f"aws_route53_record.{n}", "mode": "managed", "type": "aws_route53_record", "name": n,
         "provider_config_key": "aws", "expressions": {"zone_id": zone_ref, "name": {"constant_value": ""}},
         "schema_version": 2} for n in ("mx", "sts", "tlsrpt", "mta_sts_host", "spf", "apex")] + [
        {"address": "data.aws_route53_zone.this", "mode": "data", "type": "aws_route53_zone", "name": "this",
         "provider_config_key": "aws", "expressions": {"name": {"references": ["each.key"]}}, "schema_version": 0}],
        "module_calls": {"policy": {"source": "./policy", "module": {"resources": []}}}}
    plan = {
        "format_version": "1.2",
        "terraform_version": "1.9.8",
        "planned_values": {"root_module": module_tree(planned)},
        "resource_changes": changes,
        "prior_state": {"format_version": "1.0", "terraform_version": "1.9.8",
                        "values": {"root_module": module_tree(prior)}},
        "configuration": {"provider_config": {"aws": {"name": "aws", "full_name": AWS}},
                          "root_module": {"module_calls": {
                              "mail": {"source": "./modules/mail", "for_each_expression": {"references": ["var.domains"]},
                                       "module": mail_module},
                              "service": {"source": "./modules/service", "module": {"resources": []}}}}},
        "timestamp": "2026-11-24T00:00:00Z",
        "applyable": True,
        "complete": True,
        "errored": False,
    }
    with open(a.out, "w") as f:
        json.dump(plan, f, separators=(",", ":"))
        f.write("\n")
    types = {}
    for _, typ, *_ in out.insts:
        types[typ] = types.get(typ, 0) + 1
    print(json.dumps({"resources": len(out.insts), "mail_domains": len(data), "services": services,
                      "types": types, "actions": actions,
                      "mistakes": {str(k): v for k, v in mistakes.items() if k is not None}}))


if __name__ == "__main__":
    main()
