#!/usr/bin/env python3
"""Generates fixtures/history/: a labelled, synthetic incident history for similarity and families.

    python3 scripts/gen_history.py

Writes, deterministically (random.Random(42), byte-identical on every run):
  incidents.jsonl  ~480 import records (CONTRACT.md "Import record"), ids H-0001.. in trigger order
  labels.json      {"H-0001": "<kind>", ...}: the true kind of each incident, for measuring only
  queries.json     [{"text", "kind"}]: 5 Slack-style free-text questions per kind
  README.md        what the kinds are and how the text varies

Twelve kinds of incident, 30-50 each. Each kind has several title templates and several phrasings of
its symptom, root cause and resolution, with synonyms; services come from one shared pool (a kind spans
several services, a service sees several kinds); generic incident vocabulary (latency, 5xx, customers,
degraded, rollback, ...) is mixed into every kind; about 15% of incidents carry no root cause and no
resolution. Standard library only.
"""
import json
import os
import sys
from datetime import datetime, timedelta, timezone

import random

rng = random.Random(42)

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "fixtures", "history")

START = datetime(2026, 1, 1, tzinfo=timezone.utc)
END = datetime(2026, 10, 31, 23, 59, 59, tzinfo=timezone.utc)
DAYS = (END.date() - START.date()).days + 1  # 304

# ---------------------------------------------------------------------------------------------
# Shared pools
# ---------------------------------------------------------------------------------------------

SERVICES = [
    "payments-api", "checkout-web", "ledger-svc", "fee-assistant", "auth-service", "search-api",
    "notifications", "orders-api", "inventory-svc", "billing-worker", "shipping-api",
    "recommendations", "reporting-etl", "api-gateway", "support-bot", "user-profile",
]
TEAM = {
    "payments-api": "team-payments", "ledger-svc": "team-payments", "billing-worker": "team-payments",
    "checkout-web": "team-checkout", "orders-api": "team-checkout",
    "shipping-api": "team-fulfilment", "inventory-svc": "team-fulfilment",
    "auth-service": "team-identity", "user-profile": "team-identity",
    "api-gateway": "team-platform",
    "search-api": "team-discovery", "recommendations": "team-discovery",
    "fee-assistant": "team-ml", "support-bot": "team-ml",
    "notifications": "team-growth",
    "reporting-etl": "team-data",
}
OWNERS = ["sam", "jo", "mo", "ria", "priya", "dmitri", "lena", "kwame", "yuki", "carlos", "aisha", "tom"]

SLOTS = {
    "db": ["orders-db", "pg-main", "users-db", "billing-db", "ledger-db", "inventory-db"],
    "cache": ["redis-cache-01", "the product cache", "the session Redis", "memcached", "redis-main"],
    "queue": ["notifications-queue", "the billing-events SQS queue", "the email queue",
              "order-events queue", "webhook-delivery queue"],
    "topic": ["order-events", "payments.settled", "inventory-updates", "user-activity", "email-send"],
    "region": ["us-east-1", "eu-west-1", "us-west-2", "ap-southeast-1"],
    "host": ["ledger-svc.internal", "orders-db.prod.internal", "kafka-1.prod.internal",
             "api.acme.com", "hooks.acme.com", "partners.acme.com", "metrics.internal"],
    "node": ["db-replica-2", "kafka-broker-3", "log-agg-01", "ci-runner-4", "es-data-2", "worker-17"],
    "dom": ["api.acme.com", "checkout.acme.com", "hooks.acme.com", "auth.acme.com",
            "status.acme.com", "partners.acme.com"],
    "provider": ["Stripe", "Adyen", "Braintree", "Worldpay", "Checkout.com"],
    "upstream": ["GitHub API", "Twilio", "SendGrid", "Google Maps API", "Salesforce",
                 "Shopify Admin API", "HubSpot", "Slack API", "OpenAI API", "Stripe API", "FedEx API"],
    "what": ["SMS", "emails", "geocoding lookups", "shipping labels", "CRM updates", "messages"],
    "model": ["gpt-4o-mini", "gpt-4.1", "claude-3-5-sonnet", "llama-3-70b", "mistral-large"],
    "cfgkey": ["timeout_ms", "max_retries", "upstream_url", "rate_limit.rps", "feature.new_checkout",
               "auth.issuer", "pool.max_size"],
    "table": ["orders", "payments", "users", "line_items", "invoices", "events", "sessions"],
    "feature": ["checkout", "login", "search", "order history", "the invoices page", "the mobile app",
                "notifications", "the partner API"],
}


def pick(xs):
    return xs[rng.randrange(len(xs))]


def weighted(pairs):
    total = sum(w for _, w in pairs)
    r = rng.random() * total
    for v, w in pairs:
        r -= w
        if r < 0:
            return v
    return pairs[-1][0]


# ---------------------------------------------------------------------------------------------
# Generic noise shared by every kind
# ---------------------------------------------------------------------------------------------

GENERIC_TITLES = [
    "Elevated 5xx errors on {svc}",
    "{svc} latency degraded",
    "High error rate - {svc}",
    "{svc} partial outage",
    "{svc} health checks failing",
    "Customers reporting errors in {feature}",
    "{svc} degraded",
    "Error budget burn on {svc}",
]
TITLE_PREFIXES = ["[FIRING:1] ", "[{region}] ", "SEV{sevn}: ", "[prod] "]

IMPACT = [
    "Customers saw elevated 5xx errors for about {dur} minutes.",
    "p99 latency on {svc} degraded from 200ms to {sec}s.",
    "Roughly {pct}% of requests failed during the incident.",
    "Partial outage: {feature} was unavailable for some customers.",
    "Support received {n}0 tickets from affected customers.",
    "Error rate on {svc} was elevated and several downstream services were degraded.",
    "No customer impact beyond increased latency.",
    "Impact was limited to {region}.",
    "{svc2} also saw errors because it depends on {svc}.",
    "The outage lasted about {dur} minutes for customers in {region}.",
    "Calls from {svc2} to {svc} returned errors and {svc2} retried them, doubling traffic to {svc}.",
    "Affected services: {svc}, {svc2}.",
    "{feature} in {svc2} was degraded as a knock-on effect.",
]
DETECTION = [
    "Paged by the {svc} error-rate alert.",
    "Detected by synthetic monitoring.",
    "Reported by customer support before any alert fired.",
    "The on-call noticed the dashboard going red shortly after a deploy.",
    "The SLO burn-rate alert fired.",
    "Found by an engineer looking at elevated latency graphs.",
    "The {svc2} team raised it first, seeing errors from {svc}.",
]
RC_EXTRA = [
    "We initially suspected a bad deploy and rolled back, which did not help.",
    "Monitoring did not cover this failure mode.",
    "Recovery took longer because the runbook was out of date.",
    "Alerting fired late because the threshold was too loose.",
    "The on-call first chased a red herring in {svc2}.",
]
RES_EXTRA = [
    "Error rates returned to normal afterwards.",
    "Latency recovered and customers were notified on the status page.",
    "Confirmed recovery on the dashboards before resolving.",
    "A rollback was attempted first but made no difference.",
    "Once {svc} was healthy again, {svc2} recovered on its own.",
    "Error rates on {svc} returned to normal and the status page was updated.",
    "The {svc} on-call kept the incident open for an hour to watch {svc} and {svc2}.",
]

# Root causes and resolutions that could belong to any kind (many real postmortems are this vague).
GENERIC_RC = [
    "A change in the latest {svc} release; the exact mechanism is still being investigated.",
    "Insufficient capacity for the traffic peak, combined with missing alerting.",
    "A latent bug in {svc} that was triggered by unusual traffic from {svc2}.",
    "Human error during routine maintenance on {svc}.",
    "Not fully understood; the errors stopped before the team could confirm a cause.",
]
GENERIC_RES = [
    "Rolled back the latest deploy of {svc} and the errors stopped.",
    "Restarted the affected pods and the service recovered.",
    "Scaled {svc} up and waited for error rates and latency to return to normal.",
    "Failed traffic over to {region2} until {svc} was healthy again.",
    "The issue resolved itself before any action was taken; kept monitoring for an hour.",
    "Applied a hotfix to {svc} and confirmed recovery on the dashboards.",
]
P_GENERIC_TITLE = 0.2
P_VAGUE_SYMPTOM = 0.2  # the kind's last, least specific symptom phrasing
P_GENERIC_RC = 0.12
P_GENERIC_RES = 0.25

# What responders checked and ruled out, per kind: these sentences carry another kind's vocabulary
# into an incident (as real postmortems do), a red herring for bag-of-words similarity.
RULED_OUT = {
    "db_pool_exhaustion": ["Database metrics looked healthy, so the database was ruled out early.",
                           "We checked the connection pool first; it had headroom."],
    "tls_cert_expiry": ["Certificates were checked first and were all valid.",
                        "TLS was ruled out early."],
    "dns_failure": ["Name resolution was working, so DNS was ruled out.",
                    "The network team confirmed DNS was fine."],
    "memory_leak_oom": ["Memory usage was flat throughout.",
                        "A memory leak was suspected early on but ruled out."],
    "bad_config_push": ["Nothing had changed in the configuration that day.",
                        "A config change was suspected first, but none had gone out."],
    "disk_full": ["Disk usage was checked and had plenty of headroom.",
                  "Someone asked whether a disk had filled up; it had not."],
    "payment_provider_outage": ["The payment provider was healthy throughout.",
                                "The {provider} status page was green."],
    "cache_stampede": ["The cache hit rate was normal.",
                       "Redis looked healthy."],
    "queue_consumer_lag": ["The queues were not backed up.",
                           "Consumer lag stayed at zero throughout."],
    "slow_migration_lock": ["No migrations were running at the time.",
                            "We looked for lock waits on the database and found none."],
    "upstream_rate_limit": ["No upstream API was throttling us.",
                            "Rate limits were ruled out early."],
    "llm_quality_regression": ["No model or prompt changes had shipped recently.",
                               "The model evals were unchanged."],
}
RELATED = [
    ["db_pool_exhaustion", "slow_migration_lock", "cache_stampede", "disk_full"],
    ["tls_cert_expiry", "dns_failure", "bad_config_push"],
    ["payment_provider_outage", "upstream_rate_limit", "queue_consumer_lag"],
    ["memory_leak_oom", "queue_consumer_lag", "llm_quality_regression", "bad_config_push"],
]
P_HERRING = 0.25
P_NO_CAUSE = 0.15
P_RES_EXTRA = 0.5

# ---------------------------------------------------------------------------------------------
# Kinds
# ---------------------------------------------------------------------------------------------
# services: (name, weight); changes: [(change kind, weight)] for the causal change, p_change: the
# chance that one of the changes before the trigger is related; sev: weights sev1..sev4;
# dur: median minutes from trigger to resolve.

KINDS = {}

KINDS["db_pool_exhaustion"] = dict(
    size=46,
    description="database connection pool exhaustion (pgbouncer / HikariCP / max_connections)",
    services=[("payments-api", 3), ("orders-api", 3), ("ledger-svc", 2), ("user-profile", 2),
              ("inventory-svc", 2), ("auth-service", 2), ("billing-worker", 1), ("reporting-etl", 1)],
    sev=[2, 4, 3, 1], dur=45, p_change=0.6, changes=[("deploy", 3), ("config", 2), ("infra", 1)],
    lex={
        "pool": ["connection pool", "DB pool", "pgbouncer pool", "HikariCP pool", "database connection pool",
                 "conn pool"],
        "exhausted": ["exhausted", "saturated", "maxed out", "full", "depleted", "at capacity"],
        "pool_err": ["FATAL: sorry, too many clients already", "remaining connection slots are reserved",
                     "max_client_conn reached", "Connection is not available, request timed out after 30000ms",
                     "timeout acquiring connection from pool", "no more connections allowed"],
        "conns": ["DB connections", "database connections", "Postgres connections", "server connections",
                  "client connections"],
    },
    titles=[
        "{svc}: {pool} {exhausted}",
        "{pool} {exhausted} on {svc}",
        "{svc} - too many clients already ({db})",
        "pgbouncer max_client_conn reached for {db}",
        "{svc} timing out acquiring {conns}",
        "Ran out of {conns} - {svc}",
        "{db} connection limit hit",
        "HikariCP pool timeouts in {svc}",
    ],
    symptoms=[
        "{svc} requests began failing with '{pool_err}' from {db}.",
        "All {nconns} slots in the {svc} {pool} were checked out and new requests queued until they timed out.",
        "Requests to {svc} hung waiting for free {conns}, then returned 5xx.",
        "The {pool} for {db} was {exhausted} and refused new {conns} from {svc}.",
        "'{pool_err}' flooded the {svc} logs.",
        "Active {conns} on {db} climbed to the max_connections limit ({nconns}) and stayed pinned.",
        "{svc} threads blocked on connection checkout; pool wait time went from 2ms to over 20s.",
        "Database timeouts on {svc}; the {pool} looked {exhausted}.",
    ],
    root_causes=[
        "A new code path opened a transaction and held the connection while calling {svc2} over HTTP, so {conns} were held for seconds instead of milliseconds.",
        "Connection leak: an error branch in the {svc} repository layer never returned connections to the {pool}.",
        "The deploy raised worker concurrency from 8 to 32 per pod without growing the {pool}, so workers starved for {conns}.",
        "Autoscaling added {n} pods, each with a pool of {poolsize}, which together exceeded max_connections on {db}.",
        "Long-running report queries held pooled {conns}, starving the request path.",
        "pgbouncer default_pool_size was lowered in a config change, capping {svc} at too few {conns}.",
        "Idle-in-transaction sessions piled up after a statement timeout change and were never released back to the {pool}.",
    ],
    resolutions=[
        "Rolled back the release and restarted pods to release held {conns}.",
        "Raised the pool size and pgbouncer max_client_conn, then killed idle-in-transaction sessions on {db}.",
        "Restarted {svc} pods; the number of {conns} on {db} dropped back to normal.",
        "Hotfixed the leak so connections are returned to the {pool} in the error path.",
        "Capped the HPA max replicas and set idle_in_transaction_session_timeout to 60s.",
        "Moved the reporting queries to the read replica and shrank the {pool} per pod.",
    ],
    actions=[
        "Alert on {pool} utilization above 80%",
        "Add pool wait time to the {svc} dashboard",
        "Set idle_in_transaction_session_timeout on {db}",
        "Load test connection usage before raising worker concurrency",
        "Size pgbouncer pools against HPA max replicas",
        "Lint for HTTP calls inside DB transactions",
    ],
    change_summaries={
        "deploy": ["Raise worker concurrency 8 -> 32", "Call {svc2} inside checkout transaction",
                   "Refactor repository layer error handling"],
        "config": ["Lower pgbouncer default_pool_size 40 -> 20", "Raise statement timeout 5s -> 30s"],
        "infra": ["Raise HPA max replicas for {svc} 10 -> 30"],
    },
)

KINDS["tls_cert_expiry"] = dict(
    size=34,
    description="TLS certificate expiry or failed rotation (x509, handshake failures, mTLS)",
    services=[("api-gateway", 3), ("checkout-web", 2), ("auth-service", 2), ("payments-api", 2),
              ("notifications", 1), ("shipping-api", 1), ("search-api", 1)],
    sev=[3, 4, 2, 1], dur=80, p_change=0.3, changes=[("infra", 3), ("config", 1)],
    lex={
        "cert": ["TLS certificate", "SSL cert", "certificate", "cert", "TLS cert", "x509 certificate"],
        "expired": ["expired", "lapsed", "ran out", "was past its notAfter date", "was not renewed"],
        "tls_err": ["x509: certificate has expired or is not yet valid", "certificate verify failed",
                    "CERT_HAS_EXPIRED", "SSL_ERROR_BAD_CERT_DOMAIN", "NET::ERR_CERT_DATE_INVALID",
                    "tls: bad certificate"],
        "handshake": ["TLS handshake", "SSL handshake", "handshake", "mTLS handshake"],
        "renewal": ["renewal", "auto-renewal", "rotation", "cert-manager renewal", "ACME renewal"],
    },
    titles=[
        "{cert} {expired} for {dom}",
        "{svc}: {tls_err}",
        "{handshake} failures to {svc}",
        "Expired {cert} on {dom}",
        "{svc} mTLS client certificate expired",
        "{cert} {renewal} failed - {dom}",
        "Browsers showing {tls_err} on {dom}",
    ],
    symptoms=[
        "Clients connecting to {dom} got '{tls_err}' and {handshake}s failed.",
        "The {cert} on {dom} {expired} at {hhmm} UTC; browsers showed a security warning and API clients refused to connect.",
        "Calls from {svc2} to {svc} failed with {handshake} errors ({tls_err}).",
        "The mTLS client {cert} used by {svc} {expired}, so the mesh rejected its outbound requests.",
        "Mobile apps with certificate pinning could not reach {dom} after the {cert} rotated to a new chain.",
        "Synthetic checks for https://{dom} failed with {tls_err}.",
        "Partners reported that our HTTPS endpoint {dom} was presenting an invalid {cert}.",
    ],
    root_causes=[
        "cert-manager could not complete the ACME HTTP-01 challenge because the ingress path was blocked, so {renewal} silently failed for weeks.",
        "The {cert} was uploaded by hand a year ago; nobody owned {renewal} and the expiry reminder went to a former employee's mailbox.",
        "The Let's Encrypt {renewal} job was failing on DNS-01 permissions after an IAM change, and nothing alerted on it.",
        "The renewed {cert} was issued but the load balancer kept serving the old one because the listener was never updated.",
        "The internal CA's intermediate {expired}; services trusting only the old chain failed verification.",
        "The mesh sidecar did not reload the rotated client {cert} from disk.",
    ],
    resolutions=[
        "Issued a new {cert} manually and uploaded it to the load balancer.",
        "Fixed the ACME challenge route, forced {renewal} and confirmed the new notAfter date.",
        "Restarted the sidecars so they picked up the rotated {cert}.",
        "Deployed the new intermediate chain to the trust store and restarted {svc}.",
        "Renewed the {cert} and rolled it out to all edge nodes.",
    ],
    actions=[
        "Alert 21 days before any certificate expires",
        "Move {dom} certificate to cert-manager with automatic renewal",
        "Add certificate expiry to the synthetic checks",
        "Inventory all manually managed certificates",
        "Assign an owner for the internal CA",
    ],
    change_summaries={
        "infra": ["Migrate ingress to new load balancer", "Rotate internal CA intermediate"],
        "config": ["Update mesh mTLS settings"],
    },
)

KINDS["dns_failure"] = dict(
    size=38,
    description="DNS resolution failure (NXDOMAIN, SERVFAIL, CoreDNS overload, missing records)",
    services=[("api-gateway", 2), ("orders-api", 2), ("shipping-api", 2), ("notifications", 2),
              ("search-api", 1), ("inventory-svc", 1), ("payments-api", 1), ("reporting-etl", 1),
              ("support-bot", 1)],
    sev=[2, 4, 3, 1], dur=55, p_change=0.5, changes=[("infra", 3), ("config", 1)],
    lex={
        "dns": ["DNS", "name resolution", "DNS resolution", "hostname lookup", "resolver"],
        "dns_err": ["NXDOMAIN", "SERVFAIL", "getaddrinfo ENOTFOUND", "no such host",
                    "Temporary failure in name resolution", "EAI_AGAIN", "UnknownHostException"],
        "resolver": ["CoreDNS", "kube-dns", "the VPC resolver", "Route53", "NodeLocal DNSCache",
                     "the upstream resolver"],
        "record": ["DNS record", "CNAME", "A record", "Route53 record", "hosted zone entry"],
    },
    titles=[
        "{dns} failures in {region}",
        "{svc}: could not resolve host {host}",
        "{dns_err} for {host}",
        "{resolver} {dns_err} spike",
        "{svc} {dns_err}",
        "{dns} timeouts from {svc}",
        "{record} missing for {host}",
    ],
    symptoms=[
        "{svc} could not resolve {host}; calls failed with '{dns_err}'.",
        "Lookups for {host} returned {dns_err} from inside the cluster.",
        "{resolver} returned SERVFAIL for a large share of queries and pods saw {dns_err} errors.",
        "{dns} queries from {svc} timed out after 5s, adding latency to every outbound call and then failing them.",
        "{resolver} dropped queries under load (conntrack table full), so {dns} in {region} failed intermittently.",
        "The public {record} for {host} disappeared and customers got 'server not found'.",
        "Outbound calls from {svc} failed to connect: the hostname did not resolve.",
    ],
    root_causes=[
        "A Terraform change deleted the {record} for {host} when the zone was refactored into modules.",
        "{resolver} was under-provisioned (2 replicas) and hit its CPU limit when a batch job started resolving thousands of hostnames.",
        "ndots:5 in pod resolv.conf made each lookup try five search domains, multiplying {dns} queries until {resolver} throttled.",
        "The resolver rule forwarding the internal zone was removed during a network change.",
        "The TTL on the {record} was 86400 before a migration, so stale answers pointed at decommissioned IPs.",
        "The upstream {dns} provider had a partial outage in {region}.",
    ],
    resolutions=[
        "Recreated the {record} and waited for resolver caches to expire.",
        "Scaled {resolver} to 6 replicas and enabled NodeLocal DNSCache.",
        "Restored the resolver forwarding rule; lookups recovered within minutes.",
        "Set ndots:2 for {svc} and used fully qualified names for outbound hosts.",
        "Failed over to the secondary DNS provider.",
    ],
    actions=[
        "Add a synthetic DNS lookup check for {host}",
        "Autoscale CoreDNS on query rate",
        "Protect DNS records in Terraform with prevent_destroy",
        "Lower TTLs before planned migrations",
        "Alert on SERVFAIL rate",
    ],
    change_summaries={
        "infra": ["Refactor DNS zone into Terraform modules", "Update VPC resolver rules",
                  "Update CoreDNS configmap"],
        "config": ["Change pod dnsConfig for {svc}"],
    },
)

KINDS["memory_leak_oom"] = dict(
    size=44,
    description="memory leak / OOM kills (exit 137, heap growth, CrashLoopBackOff)",
    services=[("search-api", 2), ("recommendations", 2), ("notifications", 2), ("orders-api", 1),
              ("reporting-etl", 2), ("fee-assistant", 1), ("user-profile", 1), ("api-gateway", 1),
              ("support-bot", 1)],
    sev=[1, 3, 4, 2], dur=120, p_change=0.65, changes=[("deploy", 4), ("config", 1)],
    lex={
        "oom": ["OOMKilled", "OOM-killed", "killed by the OOM killer", "out of memory", "OOM"],
        "mem": ["memory", "heap", "RSS", "resident memory", "container memory", "working set"],
        "grew": ["grew steadily", "kept climbing", "leaked", "crept up", "ballooned", "grew without bound"],
        "restarts": ["restarts", "crash loops", "CrashLoopBackOff", "pod restarts", "exit code 137"],
    },
    titles=[
        "{svc} pods {oom}",
        "Memory leak in {svc}",
        "{svc} container {restarts}",
        "{svc} {mem} usage climbing until crash",
        "{svc} workers {oom}",
        "{svc} {restarts} after OOM",
        "{mem} growth on {svc} nodes",
    ],
    symptoms=[
        "{svc} pods were {oom} every {n} hours; each restart dropped in-flight requests.",
        "{mem} on {svc} {grew} after the release until the container hit its {memlimit} limit and was killed.",
        "Containers exited with code 137 and Kubernetes restarted them in a loop.",
        "{mem} usage {grew} in a sawtooth that never returned to baseline, followed by long GC pauses and out-of-memory errors.",
        "The kernel OOM killer terminated the {svc} process on several nodes.",
        "java.lang.OutOfMemoryError: Java heap space in the {svc} logs, then the JVM exited.",
        "{svc} kept restarting; {mem} was the first graph to look wrong.",
    ],
    root_causes=[
        "An unbounded in-process cache keyed by request id retained every response body.",
        "A new metrics label with user ids caused unbounded cardinality, and the client library kept every series in {mem}.",
        "Event listeners were registered on each request and never removed, leaking closures.",
        "Upgrading the JSON library introduced a buffer pool that never released large buffers, so {mem} {grew}.",
        "The memory limit was lowered to {memlimit} in a resource cleanup, below the service's real working set.",
        "A batch endpoint loaded entire result sets into {mem} instead of streaming them.",
    ],
    resolutions=[
        "Rolled back to the previous version; {mem} stayed flat afterwards.",
        "Raised the memory limit temporarily and scheduled rolling restarts until the fix shipped.",
        "Bounded the in-process cache with an LRU and a size cap.",
        "Took a heap dump, found the leaking listeners and shipped a fix.",
        "Switched the endpoint to streaming and paginated the query.",
    ],
    actions=[
        "Alert on container memory above 85% of limit",
        "Add heap profiling to the {svc} staging soak test",
        "Cap metric label cardinality",
        "Review memory limits against observed working set",
        "Run a 24h soak test before releases that touch caching",
    ],
    change_summaries={
        "deploy": ["Add in-process response cache", "Upgrade JSON library to 2.17",
                   "Add per-user latency metric", "Add bulk export endpoint"],
        "config": ["Lower memory limit for {svc} to {memlimit}"],
    },
)

KINDS["bad_config_push"] = dict(
    size=50,
    description="bad configuration push (invalid value, wrong endpoint, flag targeting, no canary)",
    services=[("api-gateway", 2), ("checkout-web", 2), ("payments-api", 1), ("search-api", 1),
              ("auth-service", 2), ("shipping-api", 1), ("notifications", 1), ("orders-api", 1),
              ("recommendations", 1), ("fee-assistant", 1)],
    sev=[3, 4, 2, 1], dur=30, p_change=0.9, changes=[("config", 5), ("feature_flag", 2)],
    lex={
        "config": ["config", "configuration", "settings", "config file", "YAML", "feature flag",
                   "runtime config"],
        "push": ["push", "change", "rollout", "deploy", "update", "edit"],
        "bad": ["bad", "broken", "invalid", "wrong", "malformed", "misconfigured"],
        "reverted": ["Reverted", "Rolled back", "Undid", "Backed out"],
    },
    titles=[
        "{bad} {config} {push} to {svc}",
        "{svc} misconfigured after {config} {push}",
        "{config} {push} broke {svc}",
        "Invalid {cfgkey} in {svc} {config}",
        "{svc} failing after feature flag change",
        "Wrong upstream URL in {svc} {config}",
        "{config} {push} caused {svc} errors",
    ],
    symptoms=[
        "Right after a {config} {push} to {svc}, requests started failing with 5xx.",
        "A {config} {push} set {cfgkey} to an invalid value and {svc} refused to start.",
        "The new {config} pointed {svc} at the staging endpoint of {svc2}, so production calls failed authentication.",
        "A flag flipped for 100% instead of 10% of traffic and routed all users to an unfinished code path.",
        "After the {config} {push}, {svc} could not parse its YAML and fell back to defaults.",
        "Every pod reloaded the {bad} {config} within seconds because it was pushed globally rather than canaried.",
        "{svc} started misbehaving minutes after someone changed {cfgkey}.",
    ],
    root_causes=[
        "A typo in the {config} {push} (a missing unit: '30' read as 30ms instead of 30s) slipped through review.",
        "The {config} was pushed to all regions at once; there is no validation or canary stage for {config}.",
        "An environment override from staging was copied into the production {config}.",
        "The flag targeting rule was inverted, enabling the feature for everyone.",
        "The {config} schema changed but the validator in CI was not updated, so the {bad} value passed.",
        "A secret reference in the {config} pointed to a key that did not exist in production.",
    ],
    resolutions=[
        "{reverted} the {config} {push}; errors stopped within two minutes.",
        "{reverted} the {config} to the last known good version and restarted {svc}.",
        "Turned the flag off and re-enabled it with the correct targeting.",
        "Fixed {cfgkey} by hand and pushed a corrected {config}.",
        "Restored the previous {config} from history.",
    ],
    actions=[
        "Add schema validation to the config pipeline",
        "Canary config pushes to one region first",
        "Require two reviewers for production config changes",
        "Make config rollbacks one click",
        "Diff staging and production configs in CI",
    ],
    change_summaries={
        "config": ["Set {cfgkey} for {svc}", "Point {svc} at new {svc2} endpoint",
                   "Update {svc} settings for all regions", "Tune {cfgkey}"],
        "feature_flag": ["Enable new_checkout_flow for 10% of users", "Flip search_v2 targeting rule"],
    },
)

KINDS["disk_full"] = dict(
    size=36,
    description="disk full (no space left on device, WAL growth, runaway logs, volume not resized)",
    services=[("reporting-etl", 2), ("ledger-svc", 2), ("inventory-svc", 1), ("search-api", 2),
              ("billing-worker", 1), ("orders-api", 1), ("notifications", 1)],
    sev=[2, 3, 4, 2], dur=90, p_change=0.4, changes=[("config", 2), ("data", 2), ("infra", 1)],
    lex={
        "disk": ["disk", "volume", "persistent volume", "root partition", "data disk", "EBS volume",
                 "filesystem"],
        "full": ["full", "at 100%", "out of space", "filled up", "exhausted", "at 98%"],
        "enospc": ["No space left on device", "ENOSPC", "disk quota exceeded",
                   "could not extend file", "write error: no space"],
    },
    titles=[
        "{disk} {full} on {node}",
        "{svc}: {enospc}",
        "{disk} {full} on {svc}",
        "{db} storage exhausted",
        "Disk usage critical - {svc}",
        "{svc} {enospc} writing to /var/lib",
        "{svc} {disk} {full}",
    ],
    symptoms=[
        "Writes on {svc} failed with '{enospc}'.",
        "The {disk} on {node} was {full} and the process could no longer write.",
        "{db} ran out of storage; inserts failed and the database went read-only.",
        "Log files filled the {disk} on {svc} nodes, and the kubelet started evicting pods for disk pressure.",
        "Disk usage on {svc} jumped from 60% to 100% in {n} hours.",
        "The Kafka broker {disk} filled up and the broker stopped accepting produce requests.",
        "{svc} jobs failed partway with write errors on {node}.",
    ],
    root_causes=[
        "Debug logging was left enabled after an investigation, writing several GB per hour to the {disk}.",
        "Log rotation was misconfigured, so old logs were never deleted.",
        "WAL files accumulated because an inactive replication slot prevented their removal.",
        "A backfill job wrote temporary files to local {disk} and never cleaned them up.",
        "The {disk} had not been resized as data grew, and the disk usage alert threshold was set at 99%.",
        "Core dumps from a crashing sidecar accumulated in /var/crash.",
    ],
    resolutions=[
        "Deleted old logs and temp files to free space, then restarted {svc}.",
        "Expanded the {disk} from {gb} GB to {gb2} GB online.",
        "Dropped the stale replication slot; WAL was recycled and space was reclaimed.",
        "Fixed logrotate and turned debug logging off.",
        "Moved temp files to an ephemeral volume with a size limit.",
    ],
    actions=[
        "Alert on disk usage at 80% and on growth rate",
        "Enable storage autoscaling on {db}",
        "Monitor replication slot lag",
        "Enforce log rotation in the base image",
        "Set ephemeral storage limits on batch jobs",
    ],
    change_summaries={
        "config": ["Enable debug logging on {svc}", "Change log shipping settings"],
        "data": ["Backfill {table} history for 2025", "Re-import catalogue snapshot"],
        "infra": ["Create logical replication slot for CDC"],
    },
)

KINDS["payment_provider_outage"] = dict(
    size=41,
    description="third-party payment provider (PSP) outage or degradation",
    services=[("payments-api", 4), ("checkout-web", 3), ("billing-worker", 2), ("orders-api", 1),
              ("ledger-svc", 1)],
    sev=[4, 4, 2, 1], dur=75, p_change=0.05, changes=[("config", 1)],
    lex={
        "psp": ["payment provider", "PSP", "payment processor", "payment gateway", "card processor",
                "acquirer"],
        "payments": ["payments", "card payments", "charges", "authorisations", "transactions", "checkouts"],
        "pfail": ["failing", "declined", "erroring", "timing out", "not going through"],
    },
    titles=[
        "{provider} API errors - {payments} {pfail}",
        "{psp} outage ({provider})",
        "{payments} {pfail} at checkout",
        "{provider} timeouts on charge requests",
        "Elevated payment declines via {provider}",
        "{psp} degradation impacting {svc}",
        "{provider} webhooks delayed",
    ],
    symptoms=[
        "Charge requests to {provider} returned 502/503 and customers could not complete checkout.",
        "Calls to {provider} timed out after 30s; {payments} failed for about {pct}% of attempts.",
        "The {provider} status page reported degraded performance of their card processing API.",
        "The decline rate jumped from 3% to {pct}% with 'processing_error' responses from the {psp}.",
        "Payment confirmation webhooks from {provider} stopped arriving, leaving orders stuck in pending.",
        "{svc} logged a wave of gateway errors from the {psp}.",
        "Customers could not pay; {payments} were {pfail} upstream.",
    ],
    root_causes=[
        "{provider} had an incident on their side affecting {payments} in {region}.",
        "An outage at the {psp}'s acquiring bank caused issuer timeouts.",
        "{provider} degraded a regional endpoint and we had no failover configured to a second {psp}.",
        "The {psp}'s webhook delivery backed up during their incident.",
        "Third-party outage: the {provider} API was unavailable, and our retries made checkout latency worse.",
    ],
    resolutions=[
        "Waited for {provider} to recover, then replayed failed {payments}.",
        "Failed over card traffic to {provider2}.",
        "Enabled the maintenance banner on checkout and queued orders for later capture.",
        "Reconciled pending orders with {provider} once webhooks resumed.",
        "Turned on the circuit breaker so checkout failed fast instead of hanging on the {psp}.",
    ],
    actions=[
        "Add automatic failover to a secondary payment provider",
        "Subscribe the on-call channel to {provider} status updates",
        "Circuit breaker and shorter timeouts for PSP calls",
        "Reconciliation job for orders stuck in pending",
        "Alert on payment success rate by provider",
    ],
    change_summaries={"config": ["Route EU card traffic to {provider}"]},
)

KINDS["cache_stampede"] = dict(
    size=40,
    description="cache stampede / mass eviction (hit ratio collapse, thundering herd on the database)",
    services=[("search-api", 2), ("recommendations", 2), ("user-profile", 2), ("inventory-svc", 1),
              ("checkout-web", 1), ("api-gateway", 1), ("orders-api", 1)],
    sev=[2, 4, 3, 1], dur=40, p_change=0.45, changes=[("deploy", 2), ("infra", 2), ("config", 1)],
    lex={
        "stampede": ["cache stampede", "thundering herd", "dogpile", "miss storm", "cache avalanche"],
        "hitrate": ["hit rate", "hit ratio", "cache hits", "hit percentage"],
        "evict": ["evictions", "evicted keys", "key evictions", "expirations"],
    },
    titles=[
        "{stampede} on {svc}",
        "{cache} {evict} spiking",
        "Cache {hitrate} dropped to {pct}% - {svc}",
        "{stampede} on {db} after cache flush",
        "{svc}: redis cache {stampede}",
        "{cache} memory full, keys evicted",
        "Cold cache after {cache} failover",
    ],
    symptoms=[
        "The cache {hitrate} on {svc} fell from 95% to {pct}% and every miss went to {db}.",
        "A popular key expired and thousands of concurrent requests tried to recompute it at once.",
        "{cache} hit maxmemory and started evicting hot keys under allkeys-lru.",
        "After {cache} failed over, the replica came up cold and the database took the full read load.",
        "Database CPU went to 100% because requests bypassed the cache.",
        "{evict} per second on {cache} went from near zero to tens of thousands.",
        "{svc} got slow and the database behind it was overwhelmed by reads.",
    ],
    root_causes=[
        "All product keys were set with the same TTL, so they expired together at the top of the hour.",
        "A deploy changed the cache key format, invalidating the whole cache at once.",
        "{cache} was sized for last year's data set and hit maxmemory.",
        "There was no request coalescing; concurrent misses for the same key all hit the database.",
        "A manual FLUSHALL was run against production instead of staging.",
        "The cache node failed over and the replica had not been warmed.",
    ],
    resolutions=[
        "Rate-limited recomputation and pre-warmed the cache from a snapshot.",
        "Scaled {cache} to a larger node type and the {hitrate} recovered.",
        "Added jitter to TTLs and single-flight locking around recomputation.",
        "Temporarily shed load at the gateway until the cache warmed up.",
        "Rolled back the key-format change so existing entries were reused.",
    ],
    actions=[
        "Add TTL jitter to all cache writes",
        "Request coalescing (single-flight) for hot keys",
        "Alert on cache hit ratio and evictions",
        "Block FLUSHALL in production via ACL",
        "Capacity plan for {cache} memory",
    ],
    change_summaries={
        "deploy": ["Change cache key format to include locale", "Move product lookups to new cache client"],
        "infra": ["Redis maintenance failover", "Resize {cache} node group"],
        "config": ["Lower cache TTL 300s -> 30s"],
    },
)

KINDS["queue_consumer_lag"] = dict(
    size=45,
    description="message queue consumer lag / backlog (Kafka, SQS; slow consumers, poison messages)",
    services=[("notifications", 3), ("billing-worker", 2), ("reporting-etl", 2), ("ledger-svc", 1),
              ("inventory-svc", 1), ("shipping-api", 1), ("orders-api", 1)],
    sev=[1, 3, 4, 2], dur=160, p_change=0.5, changes=[("deploy", 3), ("infra", 1), ("data", 1)],
    lex={
        "lagw": ["consumer lag", "backlog", "queue depth", "lag", "unprocessed messages", "message backlog"],
        "consumers": ["consumers", "workers", "consumer group", "queue workers", "subscribers"],
        "behind": ["falling behind", "not keeping up", "stuck", "stalled", "lagging"],
    },
    titles=[
        "{lagw} on {topic}",
        "{queue} {lagw} growing",
        "{svc} {consumers} {behind}",
        "Kafka lag alert - {topic}",
        "SQS {lagw} high ({queue})",
        "Delayed processing in {svc}",
        "Messages stuck in {queue}",
    ],
    symptoms=[
        "{lagw} on {topic} climbed past {lag} messages and kept growing.",
        "{queue} depth rose steadily; events were processed more than {mins} minutes late.",
        "Emails and push notifications went out hours late because the {svc} {consumers} were {behind}.",
        "The oldest message age in {queue} reached {mins} minutes.",
        "{consumers} kept rebalancing and made no progress through the {lagw}.",
        "A poison message was retried forever and blocked the partition.",
        "{svc} was running behind; customers saw stale data for a while.",
    ],
    root_causes=[
        "A new enrichment call to {svc2} made each message take 400ms instead of 20ms, so throughput collapsed.",
        "{consumers} were scaled down by a cost-saving change and could not keep up with peak traffic.",
        "max.poll.interval.ms was exceeded by slow batches, triggering endless rebalances.",
        "A malformed message failed deserialisation and, without a dead-letter queue, was retried indefinitely.",
        "The producer replayed a week of events after a bug fix and flooded the topic.",
        "The partition count was too low to parallelise consumption across more {consumers}.",
    ],
    resolutions=[
        "Scaled {consumers} to {n}0 replicas and let the {lagw} drain.",
        "Skipped the poison message and moved it to a dead-letter queue.",
        "Reverted the enrichment change; lag fell back to zero within an hour.",
        "Raised max.poll.interval.ms and reduced the batch size.",
        "Increased partitions on {topic} and rebalanced the consumer group.",
    ],
    actions=[
        "Alert on consumer lag and oldest message age",
        "Add a dead-letter queue for {queue}",
        "Autoscale consumers on queue depth",
        "Load test consumer throughput for new enrichment calls",
        "Throttle replay jobs",
    ],
    change_summaries={
        "deploy": ["Consumer: enrich events with {svc2} data", "Switch to new message schema"],
        "infra": ["Reduce {svc} worker replicas 12 -> 4"],
        "data": ["Replay {topic} from 7 days ago"],
    },
)

KINDS["slow_migration_lock"] = dict(
    size=32,
    description="slow database migration holding a table lock (ALTER TABLE, index build, backfill)",
    services=[("orders-api", 2), ("payments-api", 2), ("ledger-svc", 1), ("user-profile", 1),
              ("inventory-svc", 1), ("billing-worker", 1), ("auth-service", 1)],
    sev=[2, 4, 3, 1], dur=50, p_change=0.85, changes=[("migration", 6), ("deploy", 1)],
    lex={
        "migration": ["migration", "schema migration", "schema change", "DDL", "ALTER TABLE", "index build"],
        "lock": ["lock", "table lock", "DDL lock", "relation lock", "lock queue"],
        "blocked": ["blocked", "stuck", "queued", "hung", "waiting"],
    },
    titles=[
        "{migration} locked {table} table",
        "Long-running {migration} on {db}",
        "{svc} timeouts during database {migration}",
        "ALTER TABLE blocking writes on {table}",
        "{migration} stuck - {db}",
        "{lock} contention on {db} after deploy",
        "{table} table locked by index build",
    ],
    symptoms=[
        "The {migration} on {db} took an ACCESS EXCLUSIVE lock on {table} and every query on that table {blocked} behind it.",
        "Writes to {table} {blocked} while an ALTER TABLE ran for {mins} minutes.",
        "During the deploy the {migration} rewrote the whole {table} table; {svc} requests touching it timed out.",
        "pg_stat_activity showed hundreds of sessions waiting on a {lock} held by the {migration}.",
        "An index build without CONCURRENTLY {blocked} inserts into {table}.",
        "The {migration} kept running past the deploy window and replication lag on {db} grew.",
        "Database timeouts on {svc} right after the release; queries on {table} were {blocked}.",
    ],
    root_causes=[
        "Adding a column with a volatile default rewrote the {table} table under an exclusive {lock}.",
        "CREATE INDEX was run without CONCURRENTLY on a table with {rows} million rows.",
        "The {migration} waited for a {lock} behind a long-running transaction, and every later query queued behind it.",
        "A backfill UPDATE ran in a single transaction instead of in batches.",
        "No lock_timeout was set on the {migration}, so it waited indefinitely and blocked others.",
        "A foreign key added with validation scanned the whole table while holding locks.",
    ],
    resolutions=[
        "Cancelled the {migration} with pg_cancel_backend and re-ran it in batches off-peak.",
        "Killed the blocking session; queries drained within a minute.",
        "Recreated the index with CREATE INDEX CONCURRENTLY.",
        "Rewrote the {migration} to add the column nullable and backfill separately.",
        "Set lock_timeout and statement_timeout on the migration role and retried.",
    ],
    actions=[
        "Set lock_timeout for all migrations",
        "Add a migration linter (squawk) to CI",
        "Run large migrations outside the deploy pipeline",
        "Document the expand/contract migration pattern",
        "Test migrations against a production-sized snapshot",
    ],
    change_summaries={
        "migration": ["Add index on {table}(customer_id)", "Add column {table}.region with default",
                      "Add foreign key {table}.account_id", "Backfill {table}.status"],
        "deploy": ["Release with schema migration 0142"],
    },
)

KINDS["upstream_rate_limit"] = dict(
    size=39,
    description="rate limited by an upstream API (HTTP 429, quota exceeded, retries without backoff)",
    services=[("notifications", 3), ("shipping-api", 2), ("reporting-etl", 1), ("support-bot", 1),
              ("user-profile", 1), ("checkout-web", 1), ("fee-assistant", 1), ("search-api", 1)],
    sev=[1, 3, 4, 3], dur=110, p_change=0.5, changes=[("deploy", 2), ("feature_flag", 2), ("config", 1)],
    lex={
        "r429": ["429 Too Many Requests", "HTTP 429", "429s", "rate limit exceeded", "quota exceeded",
                 "too many requests"],
        "throttled": ["throttled", "rate limited", "rate-limited", "capped", "rejected"],
        "quota": ["quota", "rate limit", "request limit", "API limit", "plan limit"],
    },
    titles=[
        "{upstream} returning {r429}",
        "{throttled} by {upstream}",
        "{svc}: upstream {quota} exceeded",
        "{r429} from {upstream} API",
        "{upstream} throttling {svc}",
        "API {quota} hit - {upstream}",
        "{svc} requests {throttled} by {upstream}",
    ],
    symptoms=[
        "{upstream} started answering {svc} with {r429} and a Retry-After header.",
        "Calls to {upstream} failed with '{r429}' and {svc} could not send {what}.",
        "We hit the daily {quota} on our {upstream} account by mid-afternoon.",
        "{svc} retried {throttled} requests immediately, which kept us above the {quota}.",
        "About {pct}% of outbound calls to {upstream} were {throttled}.",
        "{upstream} {throttled} our API key after a burst of traffic from {svc}.",
        "{svc} could not reach {upstream} reliably; most calls were refused.",
    ],
    root_causes=[
        "A sync job was changed to run every minute instead of hourly and consumed the shared {upstream} {quota}.",
        "Retries without backoff or jitter multiplied traffic once the first 429s arrived.",
        "A feature launch sent far more requests than the plan's {quota} allowed.",
        "All services shared one API key, so a batch job exhausted the {quota} for everyone.",
        "{upstream} lowered our {quota} tier after a billing change.",
        "Client-side rate limiting was configured per pod, and autoscaling multiplied the total.",
    ],
    resolutions=[
        "Paused the batch job and added exponential backoff honouring Retry-After.",
        "Asked {upstream} to raise our {quota}.",
        "Added a shared token bucket in front of {upstream} calls.",
        "Split traffic across separate API keys per service.",
        "Cached {upstream} responses to cut request volume.",
    ],
    actions=[
        "Alert on 429 rate per upstream",
        "Honour Retry-After in the shared HTTP client",
        "Central rate limiter for {upstream} calls",
        "Track quota usage against plan limits",
        "Separate API keys per service",
    ],
    change_summaries={
        "deploy": ["Run {upstream} sync every minute", "Retry failed {upstream} calls"],
        "feature_flag": ["Enable address autocomplete for all users", "Enable SMS receipts"],
        "config": ["Raise {svc} replicas for launch"],
    },
)

KINDS["llm_quality_regression"] = dict(
    size=35,
    description="LLM / model quality regression (bad prompt change, model version bump, retrieval config)",
    services=[("fee-assistant", 3), ("support-bot", 3), ("search-api", 1), ("recommendations", 1),
              ("notifications", 1)],
    sev=[1, 2, 4, 4], dur=600, p_change=0.85, changes=[("prompt", 3), ("model", 3), ("data", 1), ("config", 1)],
    lex={
        "llm": ["LLM", "model", "assistant", "bot", "chatbot", "AI answers"],
        "quality": ["answer quality", "response quality", "output quality", "accuracy", "helpfulness"],
        "halluc": ["hallucinating", "making things up", "giving wrong answers", "inventing facts",
                   "ignoring instructions"],
        "pchange": ["prompt change", "prompt update", "prompt edit", "new system prompt", "prompt v2"],
    },
    titles=[
        "{svc} {quality} regression",
        "{svc} {halluc} after model upgrade",
        "{llm} responses degraded - {svc}",
        "{pchange} broke {svc} outputs",
        "{svc} returning malformed JSON from {llm}",
        "Eval score drop on {svc}",
        "{model2} rollout: bad completions",
    ],
    symptoms=[
        "Users reported that {svc} was {halluc}.",
        "After switching to {model2}, {svc} started {halluc}.",
        "The share of {llm} outputs failing JSON schema validation went from 0.5% to {pct}%.",
        "Offline eval scores for {svc} dropped from 0.86 to 0.{ev} after the {pchange}.",
        "Thumbs-down feedback on {svc} replies tripled within a day.",
        "{svc} began refusing harmless requests and adding long disclaimers.",
        "The {llm} quoted prices and fees that do not exist.",
    ],
    root_causes=[
        "The model version was bumped from {model} to {model2} without rerunning the eval suite.",
        "The {pchange} removed the few-shot examples that anchored the output format.",
        "The provider silently updated the {llm} behind an unpinned alias.",
        "The retrieval index was rebuilt with a bad chunking config, so the prompt got irrelevant context.",
        "A system prompt template variable was left empty, so the {llm} lost its instructions.",
        "Temperature was raised from 0.2 to 1.0 in a config change.",
    ],
    resolutions=[
        "Rolled back the {pchange}.",
        "Pinned the model to {model} and re-ran the evals.",
        "Restored the few-shot examples and added output schema validation with a retry.",
        "Rebuilt the retrieval index with the old chunking settings.",
        "Reverted the temperature change.",
    ],
    actions=[
        "Gate model and prompt changes on the eval suite",
        "Pin model versions instead of aliases",
        "Monitor schema-validation failure rate of model outputs",
        "Version prompts and record them with each response",
        "Add user feedback rate to the {svc} dashboard",
    ],
    change_summaries={
        "prompt": ["Prompt v{n}: shorten system prompt", "Prompt v{n}: new tone guidelines"],
        "model": ["Switch {svc} to {model2}", "Upgrade model alias to latest"],
        "data": ["Rebuild retrieval index with 512-token chunks"],
        "config": ["Raise sampling temperature to 1.0"],
    },
)

# Changes unrelated to the incident: red herrings, as real change feeds are full of them.
NOISE_CHANGES = {
    "deploy": ["Fix typo in README and runbook link", "Add retry metrics to the HTTP client",
               "Bump base image", "Refactor logging helpers", "Update translations",
               "Add tracing spans to {svc2} client", "Remove dead code"],
    "config": ["Tune CDN cache TTL for static assets", "Update alert routing", "Raise log sampling to 5%"],
    "feature_flag": ["Enable receipts email v2 for 10% of users", "Enable dark mode for staff"],
    "infra": ["Scale node pool from 12 to 14 nodes", "Patch kernel on worker nodes", "Rotate IAM keys"],
    "data": ["Refresh analytics snapshot"],
    "migration": ["Add index on audit_log(created_at)"],
}
CHANGE_PREFIX = {"deploy": "deploy", "config": "cfg", "feature_flag": "flag", "migration": "mig",
                 "infra": "infra", "data": "data", "model": "model", "prompt": "prompt"}


# ---------------------------------------------------------------------------------------------
# Generation
# ---------------------------------------------------------------------------------------------

def slot_values(kind, svc):
    v = {k: pick(xs) for k, xs in SLOTS.items()}
    v.update({k: pick(xs) for k, xs in KINDS[kind]["lex"].items()})
    v["svc"] = svc
    v["svc2"] = pick([s for s in SERVICES if s != svc])
    v["provider2"] = pick([p for p in SLOTS["provider"] if p != v["provider"]])
    v["region2"] = pick([r for r in SLOTS["region"] if r != v["region"]])
    v["model2"] = pick([m for m in SLOTS["model"] if m != v["model"]])
    v["n"] = rng.randint(2, 9)
    v["pct"] = rng.choice([8, 12, 15, 20, 25, 30, 40, 55, 60])
    v["mins"] = rng.choice([20, 35, 45, 90, 120, 240])
    v["lag"] = rng.choice(["50k", "200k", "1.2M", "4M"])
    v["nconns"] = rng.choice([100, 200, 300, 500])
    v["poolsize"] = rng.choice([10, 20, 25, 50])
    v["memlimit"] = rng.choice(["512Mi", "1Gi", "2Gi", "4Gi"])
    v["gb"] = rng.choice([100, 200, 500])
    v["gb2"] = v["gb"] * 2
    v["rows"] = rng.choice([40, 120, 300, 800])
    v["sec"] = rng.choice([2, 4, 8, 12, 30])
    v["dur"] = rng.choice([10, 15, 25, 40, 60, 90])
    v["ev"] = rng.randint(41, 72)
    v["hhmm"] = "%02d:%02d" % (rng.randrange(24), rng.randrange(60))
    return v


KEEP_LOWER = set(SERVICES) | {"pgbouncer", "memcached", "getaddrinfo", "ndots"}


def fill(template, v):
    """Fills a template; a sentence that starts with an ordinary lower-case word gets a capital."""
    text = template.format(**v)
    first = text.split(" ", 1)[0]
    if first.isalpha() and first.islower() and first not in KEEP_LOWER:
        text = text[0].upper() + text[1:]
    return text


def rfc3339(t):
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


HOUR_WEIGHTS = [(h, w) for h, w in enumerate(
    [1, 0.8, 0.7, 0.7, 0.7, 0.9, 1.2, 2, 3, 5, 6, 6, 5, 5.5, 6, 6, 5.5, 4.5, 3, 2.5, 2, 1.6, 1.3, 1.1])]


def trigger_time():
    day = START + timedelta(days=rng.randrange(DAYS))
    if day.weekday() >= 5 and rng.random() < 0.5:  # fewer incidents at weekends
        day = START + timedelta(days=rng.randrange(DAYS))
    hour = weighted(HOUR_WEIGHTS)
    return day + timedelta(hours=hour, minutes=rng.randrange(60), seconds=rng.randrange(60))


def make_incident(kind, spec, with_cause):
    svc = weighted(spec["services"])
    v = slot_values(kind, svc)
    sev = weighted([(i + 1, w) for i, w in enumerate(spec["sev"])])
    v["sevn"] = sev

    # title: mostly kind-specific, sometimes a generic alert title; sometimes an alert prefix
    if rng.random() < P_GENERIC_TITLE:
        title = fill(pick(GENERIC_TITLES), v)
    else:
        title = fill(pick(spec["titles"]), v)
    if rng.random() < 0.15:
        title = fill(pick(TITLE_PREFIXES), v) + title

    # summary: 1-3 sentences: symptom, maybe impact, maybe detection
    if rng.random() < P_VAGUE_SYMPTOM:
        parts = [fill(spec["symptoms"][-1], v)]
    else:
        parts = [fill(pick(spec["symptoms"][:-1]), v)]
    if rng.random() < 0.7:
        parts.append(fill(pick(IMPACT), v))
    if rng.random() < 0.35:
        parts.append(fill(pick(DETECTION), v))
    if len(parts) == 3 and rng.random() < 0.5:
        parts.pop(1)

    herring = None
    if rng.random() < P_HERRING:
        related = [k for g in RELATED if kind in g for k in g if k != kind]
        other = pick(related) if related and rng.random() < 0.6 else pick([k for k in KINDS if k != kind])
        herring = fill(pick(RULED_OUT[other]), v)
        if rng.random() < 0.4:
            parts = parts[:2] + [herring]  # at most three sentences
            herring = None
    summary = " ".join(parts)

    root_cause = resolution = None
    if with_cause:
        root_cause = fill(pick(GENERIC_RC if rng.random() < P_GENERIC_RC else spec["root_causes"]), v)
        if rng.random() < 0.3:
            root_cause += " " + fill(pick(RC_EXTRA), v)
        if herring:
            root_cause = herring + " " + root_cause if rng.random() < 0.5 else root_cause + " " + herring
        resolution = fill(pick(GENERIC_RES if rng.random() < P_GENERIC_RES else spec["resolutions"]), v)
        if rng.random() < P_RES_EXTRA:
            resolution += " " + fill(pick(RES_EXTRA), v)

    # times
    while True:
        t0 = trigger_time()
        ack_max = {1: 8, 2: 15, 3: 40, 4: 120}[sev]
        ack = t0 + timedelta(seconds=rng.randint(45, ack_max * 60))
        sev_factor = {1: 1.3, 2: 1.0, 3: 0.9, 4: 1.2}[sev]
        minutes = max(6.0, spec["dur"] * sev_factor * rng.lognormvariate(0, 0.6))
        resolved = ack + timedelta(seconds=int(minutes * 60))
        if resolved <= END:
            break

    # changes before the trigger: sometimes the related one, sometimes red herrings
    changes = []
    n_changes = weighted([(0, 3), (1, 4), (2, 3)])
    related = rng.random() < spec["p_change"]
    if related and n_changes == 0:
        n_changes = 1
    for i in range(n_changes):
        if related and i == 0:
            ck = weighted(spec["changes"])
            text = fill(pick(spec["change_summaries"][ck]), v)
            csvc = svc if rng.random() < 0.85 else v["svc2"]
            at = t0 - timedelta(seconds=rng.randint(4 * 60, 120 * 60))
        else:
            ck = weighted([("deploy", 5), ("config", 2), ("feature_flag", 1), ("infra", 2),
                           ("data", 1), ("migration", 1)])
            text = fill(pick(NOISE_CHANGES[ck]), v)
            csvc = svc if rng.random() < 0.4 else pick(SERVICES)
            at = t0 - timedelta(seconds=rng.randint(10 * 60, 10 * 3600))
        changes.append({"kind": ck, "service": csvc, "summary": text, "at": at})
    changes.sort(key=lambda c: c["at"])

    # action items: 2-3 of the kind's, some done
    texts = rng.sample(spec["actions"], rng.choice([2, 2, 3]))
    action_items = []
    for text in texts:
        item = {"text": fill(text, v), "owner": pick(OWNERS), "status": "open", "closed_at": None}
        if rng.random() < 0.5:
            closed = resolved + timedelta(days=rng.randint(1, 45), hours=rng.randint(0, 8),
                                          minutes=rng.randrange(60))
            closed = closed.replace(hour=max(9, min(closed.hour, 18)))
            if closed <= END and closed > resolved:
                item["status"] = "done"
                item["closed_at"] = rfc3339(closed)
        action_items.append(item)

    tags = [TEAM[svc]]
    if sev <= 2:
        tags.append("customer-impact")
    if t0.weekday() >= 5:
        tags.append("weekend")
    if rng.random() < 0.2:
        tags.append(v["region"])
    if rng.random() < 0.1:
        tags.append("follow-up")

    return {
        "kind": kind, "t0": t0,
        "record": {
            "id": None,
            "title": title,
            "service": svc,
            "triggered_at": rfc3339(t0),
            "acknowledged_at": rfc3339(ack),
            "resolved_at": rfc3339(resolved),
            "severity": "sev%d" % sev,
            "summary": summary,
            "root_cause": root_cause,
            "resolution": resolution,
            "action_items": action_items,
            "changes": changes,
            "tags": tags,
        },
    }


# ---------------------------------------------------------------------------------------------
# Free-text queries: as a responder would type them into Slack. Hand-written paraphrases; checked
# below never to contain a whole title.
# ---------------------------------------------------------------------------------------------

QUERIES = {
    "db_pool_exhaustion": [
        "db connections maxed out after deploy",
        "are we seeing pool exhaustion again",
        "postgres says too many clients, checkout hanging",
        "requests stuck waiting to get a database connection",
        "pgbouncer full, anyone seen this before?",
    ],
    "tls_cert_expiry": [
        "cert expired on the api domain?",
        "clients failing tls handshake, certificate verify failed",
        "did someone forget to renew the ssl cert",
        "certs expiring between internal services?",
        "letsencrypt renewal didn't happen, browser warning on site",
    ],
    "dns_failure": [
        "hostnames randomly not resolving inside the cluster",
        "getting NXDOMAIN for an internal host",
        "coredns struggling again, lookups failing",
        "dns lookups timing out, no such host errors",
        "record disappeared from route53, site not found",
    ],
    "memory_leak_oom": [
        "pods keep getting oom killed",
        "memory keeps climbing until the container dies",
        "exit code 137 restarts every few hours",
        "looks like a leak, heap never goes down",
        "containers crashing out of memory after releases",
    ],
    "bad_config_push": [
        "someone pushed a broken config?",
        "errors started right after a settings change",
        "flag got enabled for everyone by mistake",
        "invalid value in the yaml took the service down",
        "revert the config, prod pointing at staging endpoint",
    ],
    "disk_full": [
        "no space left on the volume",
        "disk at 100 percent, writes failing",
        "logging filled the disks again",
        "database went read only, out of storage",
        "wal piling up and eating the disk",
    ],
    "payment_provider_outage": [
        "stripe is down? card payments failing",
        "psp returning errors, customers can't pay",
        "payment processor outage, declines spiking",
        "adyen timeouts on authorisations",
        "orders stuck pending, payment webhooks not arriving",
    ],
    "cache_stampede": [
        "redis hit rate tanked and db is melting",
        "thundering herd after the cache got flushed",
        "redis evicting keys like crazy, hit ratios collapsing",
        "everything is a cache miss, database cpu pegged",
        "cache came back cold after the redis failover, db getting hammered",
    ],
    "queue_consumer_lag": [
        "kafka lag keeps growing",
        "emails delayed by hours, consumers lagging",
        "consumers can't keep up with the topic",
        "sqs depth through the roof",
        "poison message blocking the partition?",
    ],
    "slow_migration_lock": [
        "migration holding a lock on the orders table",
        "alter table blocking writes, everything locked",
        "queries piling up waiting on a lock after the release",
        "index creation locked the table, forgot concurrently",
        "schema migration running forever, requests timing out on locks",
    ],
    "upstream_rate_limit": [
        "getting 429s from twilio",
        "we're being throttled by the vendor api",
        "hit the api quota for the sms vendor, requests throttled",
        "too many requests errors, retry-after headers",
        "sms sending throttled, limits exceeded",
    ],
    "llm_quality_regression": [
        "bot giving made up answers since yesterday",
        "model upgrade made the assistant worse",
        "prompt change broke the json output",
        "evals dropping since the model switch",
        "assistant hallucinating fees again",
    ],
}


def readme(sizes, total, no_rc):
    lines = [
        "# Incident history fixture",
        "",
        "Synthetic, labelled incident history for `postmortem similar` and `postmortem families`: "
        "%d import records (CONTRACT.md \"Import record\") spread over 2026-01-01 .. 2026-10-31, "
        "in twelve kinds of incident." % total,
        "",
        "| file | what |",
        "|---|---|",
        "| `incidents.jsonl` | one import record a line, ids `H-0001`.. in trigger order |",
        "| `labels.json` | `{\"H-0001\": \"<kind>\", ...}`: the true kind of each incident |",
        "| `queries.json` | `[{\"text\", \"kind\"}]`: 5 free-text questions per kind, as a responder types them into Slack |",
        "",
        "**The labels are only for measuring** (precision@k of `similar`, purity of `families`). They are "
        "kept out of the records on purpose: nothing in `incidents.jsonl` names the kind (tags are team "
        "names, severity, region, `weekend`, `customer-impact`), so code that imports the history cannot "
        "cheat by reading them.",
        "",
        "## Kinds",
        "",
        "| kind | incidents | what it is |",
        "|---|---|---|",
    ]
    for kind, spec in KINDS.items():
        lines.append("| `%s` | %d | %s |" % (kind, sizes[kind], spec["description"]))
    lines += [
        "",
        "## How the text varies",
        "",
        "- **Titles** are short, like PagerDuty alert titles. Each kind has 7-8 title templates, and "
        "each kind has its own synonym sets filled into its templates (\"connection pool exhausted\" / "
        "\"DB pool maxed out\" / \"too many clients already\" / \"pgbouncer max_client_conn reached\" / "
        "\"Ran out of Postgres connections\"). About %d%% of incidents carry a generic title shared by "
        "all kinds instead (\"Elevated 5xx errors on payments-api\", \"search-api latency degraded\"), "
        "and about 15%% an alert prefix (`[FIRING:1]`, `SEV2:`, a region)." % round(100 * P_GENERIC_TITLE),
        "- **Summaries** are 1-3 sentences: one of the kind's symptom phrasings (%d%% of the time its "
        "vaguest one, with few kind-specific words), often a generic impact sentence (5xx, latency, "
        "customers, degraded, outage, other services affected) and sometimes a detection sentence, "
        "both shared across all kinds." % round(100 * P_VAGUE_SYMPTOM),
        "- **Root causes and resolutions**: 5-7 phrasings each per kind; %d%% of root causes and %d%% of "
        "resolutions are generic ones that could belong to any kind (\"Rolled back the latest deploy\", "
        "\"Not fully understood\"), and generic follow-up sentences are often appended. %d incidents "
        "(%d%%) have neither root cause nor resolution, only title and summary."
        % (round(100 * P_GENERIC_RC), round(100 * P_GENERIC_RES), no_rc, round(100 * P_NO_CAUSE)),
        "- **Red herrings**: about %d%% of incidents mention something responders checked and ruled out, "
        "in another kind's words (\"CoreDNS metrics were normal\", \"We checked pgbouncer first; it "
        "had plenty of free connections\"), usually a related kind (database kinds among themselves, "
        "TLS/DNS/config, payment provider/rate limits/queues)." % round(100 * P_HERRING),
        "- **Shared services**: %d services; each kind spans 5-10 of them and each service sees at least "
        "three kinds, so the service alone does not tell the kind, and service names (in titles and "
        "text, often two per incident) are the strongest confounder for plain bag-of-words similarity. "
        "Placeholders (databases, hosts, domains, providers, upstream APIs, models, tables, regions, "
        "numbers) vary per incident." % len(SERVICES),
        "- **Deliberate overlaps** between kinds: pool exhaustion, migrations and cache stampedes all "
        "talk about the database; disk full has a Kafka-broker variant; rate limiting can hit the "
        "Stripe or OpenAI APIs; config pushes, memory leaks and model regressions all roll back.",
        "- **Changes**: 0-2 change events before the trigger. For most kinds one is often the cause "
        "(a `config` change before a bad config push, a `migration` before a table lock, a `prompt` or "
        "`model` change before an LLM regression); the others are unrelated red herrings.",
        "- **Action items**: 2-3 of the kind's follow-ups, owners from a fixed list, about half `done` "
        "with a `closed_at` after the resolution.",
        "- **Times**: trigger times weighted to business hours (UTC) and weekdays; acknowledgement "
        "within minutes (faster for sev1); resolution after a kind- and severity-dependent, log-normal "
        "duration; always `triggered_at <= acknowledged_at <= resolved_at`, changes before the trigger.",
        "- **Queries** are hand-written Slack-style paraphrases (\"db connections maxed out after "
        "deploy\", \"are we seeing pool exhaustion again\"); the generator checks that none contains a "
        "whole title.",
        "",
        "## Measured difficulty",
        "",
        "`scripts/history_baseline.py` (precision@5; by incident: leave-one-out, the top 5 other "
        "incidents; by query: the top 5 incidents for each of the 60 queries):",
        "",
        "| method | by incident | by query |",
        "|---|---|---|",
        "| plain TF-IDF (title + summary + root cause + resolution, unigrams, raw tf, no stop words) | 0.915 | 0.917 |",
        "| stop words, sublinear tf, summary x1.5 | 0.930 | 0.933 |",
        "| the same, title x1.5, service-name tokens dropped | 0.981 | 0.917 |",
        "",
        "Boosting titles alone (x2 or more) or adding bigrams does not help by incident: a fifth of "
        "the titles are generic, and titles and bigrams carry service names. The queries name no "
        "service; they are short and use other word forms than the history (\"certs expiring\", "
        "\"consumers lagging\", \"evals dropping\"), so they gain from stemming and stop words. "
        "Action items (not in the baseline's text) follow the kind and are a further, legitimate "
        "signal. Re-run the script after changing the generator; these figures are for the "
        "committed fixture.",
        "",
        "## Regenerating",
        "",
        "```sh",
        "python3 scripts/gen_history.py        # rewrites fixtures/history/, byte-identical (random.Random(42))",
        "python3 scripts/history_baseline.py   # plain TF-IDF precision@5 on this fixture",
        "```",
        "",
        "Both scripts use the Python 3 standard library only.",
        "",
    ]
    return "\n".join(lines)


def main():
    incidents = []
    for kind, spec in KINDS.items():
        # about 15% of each kind without root cause and resolution
        bare = set(rng.sample(range(spec["size"]), round(spec["size"] * P_NO_CAUSE)))
        for i in range(spec["size"]):
            incidents.append(make_incident(kind, spec, i not in bare))
    incidents.sort(key=lambda x: (x["t0"], x["record"]["service"], x["record"]["title"]))

    labels = {}
    counter = 5000
    for i, inc in enumerate(incidents, 1):
        rec = inc["record"]
        rec["id"] = "H-%04d" % i
        labels[rec["id"]] = inc["kind"]
        out = []
        for c in rec["changes"]:
            counter += rng.randint(1, 9)
            out.append({"id": "%s-%d" % (CHANGE_PREFIX[c["kind"]], counter), "service": c["service"],
                        "kind": c["kind"], "summary": c["summary"], "at": rfc3339(c["at"])})
        rec["changes"] = out
        if rec["root_cause"] is None:
            del rec["root_cause"]
            del rec["resolution"]

    # sanity checks
    ids = [inc["record"]["id"] for inc in incidents]
    assert len(ids) == len(set(ids))
    change_ids = [c["id"] for inc in incidents for c in inc["record"]["changes"]]
    assert len(change_ids) == len(set(change_ids))
    titles = [inc["record"]["title"].lower() for inc in incidents]
    for kind, qs in QUERIES.items():
        assert kind in KINDS and len(qs) == 5
        for q in qs:
            assert not any(t in q.lower() for t in titles), q
    for inc in incidents:
        r = inc["record"]
        assert r["triggered_at"] <= r["acknowledged_at"] <= r["resolved_at"] <= rfc3339(END)
        assert all(c["at"] < r["triggered_at"] for c in r["changes"])
        for a in r["action_items"]:
            assert a["closed_at"] is None or a["closed_at"] > r["resolved_at"]
    per_service = {}
    for inc in incidents:
        per_service.setdefault(inc["record"]["service"], set()).add(inc["kind"])
    assert all(len(k) >= 3 for k in per_service.values()), per_service

    os.makedirs(OUT, exist_ok=True)
    with open(os.path.join(OUT, "incidents.jsonl"), "w", encoding="utf-8", newline="\n") as f:
        for inc in incidents:
            f.write(json.dumps(inc["record"], ensure_ascii=False) + "\n")
    with open(os.path.join(OUT, "labels.json"), "w", encoding="utf-8", newline="\n") as f:
        json.dump(labels, f, indent=1)
        f.write("\n")
    queries = [{"text": q, "kind": kind} for kind, qs in QUERIES.items() for q in qs]
    with open(os.path.join(OUT, "queries.json"), "w", encoding="utf-8", newline="\n") as f:
        json.dump(queries, f, indent=1)
        f.write("\n")
    sizes = {k: s["size"] for k, s in KINDS.items()}
    no_rc = sum(1 for inc in incidents if "root_cause" not in inc["record"])
    with open(os.path.join(OUT, "README.md"), "w", encoding="utf-8", newline="\n") as f:
        f.write(readme(sizes, len(incidents), no_rc))
    print("wrote %d incidents (%d without root cause), %d queries to %s"
          % (len(incidents), no_rc, len(queries), os.path.relpath(OUT, os.getcwd())), file=sys.stderr)


if __name__ == "__main__":
    main()
