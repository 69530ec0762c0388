//! Reading the responders' words. Every rule about what a message says is here, each with its test:
//! what cause it states (an external dependency, load, an expiry, infrastructure), whether it rules
//! something out, whether it reports undoing a change, and which other service it says is failing.
//! Rules work clause by clause, so "not a traffic spike, the CDN is down" states an external cause
//! and rules load out.

use std::sync::LazyLock;

use regex::{Regex, RegexBuilder};

/// A cause that is not a change.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Claim {
    /// A vendor, cloud provider, DNS provider or CDN.
    External,
    /// A traffic surge or exhausted capacity.
    Load,
    /// An expired certificate, credential or licence; a used-up quota; a full disk.
    Expiry,
    /// Hardware, hosts, nodes, network in our own fleet.
    Infrastructure,
}

impl Claim {
    pub const ALL: [Claim; 4] = [
        Claim::External,
        Claim::Load,
        Claim::Expiry,
        Claim::Infrastructure,
    ];
}

/// How a clause bears on a claim.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stance {
    /// States it ("Stripe's status page shows a major outage").
    Strong,
    /// Suggests or asks it ("could this be traffic?", "lots of load").
    Weak,
    /// Rules it out ("not a traffic spike", "status page is green").
    Denied,
}

fn re(pattern: &str) -> Regex {
    RegexBuilder::new(pattern)
        .case_insensitive(true)
        .build()
        .expect("a valid built-in pattern")
}

/// Who outside our fleet can fail us.
static PROVIDER: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"\b(vendor|provider|third[- ]?party|3rd[- ]?party|saas|cdn|dns|registrar|upstream api|their (api|side|end|status)|on their end|partner api|payment processor|processor|gateway provider|stripe|twilio|cloudflare|aws|amazon|ec2|s3|gcp|google cloud|azure|akamai|fastly|sendgrid|mailgun|postmark|auth0|okta|adyen|braintree|paypal|plaid|shopify|salesforce|segment|github|atlassian|route ?53|ns1|dyn|godaddy|openai|anthropic|algolia|heroku|vercel|netlify|digitalocean|linode|apple|apns|fcm|firebase|carriers?|their (api|apis|side|end|status|servers?|endpoints?|service|platform|outage|incident|nameservers|dns|cdn|region|infra|support)|upstream (provider|vendor|api)|(sms|email|payment|payments|geocoding|maps|search|identity|auth|push|cdn|dns|hosting|cloud|kyc|shipping|tax|fraud) (vendor|provider|partner|api))\b",
    )
});
/// Words of something being broken.
static FAILURE: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"\b(outage|down|degraded|degradation|incident|disruption|failing|fails|failed|failure|errors?|erroring|5\d\ds?|5xxs?|timeouts?|timing out|unavailable|unreachable|broken|issues?|problems?|investigating|latency|slow|slowdown|throttl\w*|flaky|flapping|servfail|nxdomain|not resolving|resolution failures?|could not resolve|can'?t resolve)\b",
    )
});
/// A provider's own admission: the strongest external evidence.
static PROVIDER_ADMITS: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"\b((provider|vendor|cdn|cloud|dns|upstream|carrier|partner)('s)? (incident|outage|issue|degradation|problem|maintenance)|on their (side|end)|status ?page|statuspage|status\.\w+|status\s*[:\-]|health dashboard|their (incident|postmortem|rca)|(major|partial) outage|confirmed (an |the )?(outage|incident|issue)|acknowledged (an |the )?(outage|incident|issue)|posted an incident|regional outage|provider outage|vendor outage|investigating|identified|(says|said|confirms?|confirmed) (it'?s |they'?re |they |it )?(recovered|resolved|fixed|mitigated|on their (side|end))|(it'?s|its|it is|this is|that'?s) (the|a|their|an) (\w+ ){0,2}(provider|vendor|cdn|dns|isp|carrier|upstream|region))\b",
    )
});
static LOAD_STRONG: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"\b((traffic|request|load|signup|order|login|checkout)s? (spike|surge|jump|burst|flood|wave)|(spike|surge|jump|burst|flood|wave) (in|of) (traffic|requests|load|signups|orders|logins|users|visitors)|\d+(\.\d+)?\s?x (the )?(normal|usual|baseline|typical|regular)? ?(traffic|load|rps|qps|requests|volume)|campaign|promo\b|promos\b|promotional|promotion (email|push|event|sale|campaign|went)|marketing (email|push|blast|send)|email blast|newsletter|went viral|viral|bot(s|net)?|scrapers?|crawlers?|ddos|retry storm|thundering herd|(purely|just|simply|all) (the )?(volume|load|traffic|demand)|sheer (volume|load|number|amount)|swamped|flooded|overwhelmed|deluge|\bherd\b|flash sale|black friday|cyber monday|push notification|tv (ad|spot)|super bowl|hug of death|traffic (is|was) (way )?up|more traffic than|(requests|traffic|rps|qps|load|volume|signups|logins|orders|calls)\s+(\w+\s+){0,3}\d+(\.\d+)?\s?x|\d+(\.\d+)?\s?x (normal|usual|baseline|typical)|push (went out|notification|campaign)|marketing('s)?\b.{0,30}\b(push|email|campaign|blast|send)|front page of|(reddit|hacker news|tiktok) front page|hacker news|product hunt|#1 on|trending|credential stuffing|brute[- ]force|(bot|ddos|scraping|spam) (attack|traffic|wave)|attack traffic|under attack)\b",
    )
});
static LOAD_WEAK: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"\b(traffic|load|rps|qps|capacity|overloaded|saturated|saturation|maxed out|autoscal\w*|scal(e|ed|ing) (up|out)|peak|not enough (of them|workers|capacity|instances|pods|replicas)|attack)\b",
    )
});
/// Bare expiry words: caches expire too, so alone they only suggest it.
static EXPIRY_WEAK: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"\b(expired|expiry|expiring|expires|lapsed|ran out|cap|quota|allowance|revoked|rotated out|invalidated|valid[_ ]until|not[_ ]?after|validity)\b",
    )
});
/// "It expired yesterday", "expired on 2026-08-26": an expiry dated is stated, whatever expired.
static EXPIRED_WHEN: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"\b(expired|lapsed|ran out)\s+(yesterday|today|last (night|week|month)|this (morning|week)|at \d|on \d|on (mon|tues|wednes|thurs|fri|satur|sun)day|\d+ (hours?|days?|minutes?) ago|overnight|at midnight|in (january|february|march|april|may|june|july|august|september|october|november|december)|last (year|week|month|night))",
    )
});
/// What expires: with a bare expiry word in the same clause, an expiry is stated.
static EXPIRY_SUBJECT: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"\b(cert|certs|certificate|certificates|tls|ssl|license|licence|token|api key|key|credential|credentials|password|secret|domain|subscription|contract|quota)\b",
    )
});
static EXPIRY: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"\b((cert|certificate|tls|ssl|license|licence|token|key|credential|password|secret|domain|subscription|contract)s? (has |have |had |is |was )?(expired|lapsed|expiring|ran out)|(expired|expiring|lapsed) (cert|certificate|tls|ssl|license|licence|token|key|credential|password|secret|domain|subscription)s?|licen[cs]e ?error|insufficient_quota|spend(ing)? (cap|limit)|billing (cap|limit)|(hit|reached|exceeded|maxed) (the |our |its |their )?(\w+ )?(cap|quota|limit|allowance)|x\.?509|not ?after|certificate has expired|cert(ificate)?s? (is |was |has |have )?(expired|lapsed|out of date)|rate[- ]limit(ed|s)? (hit|reached|exceeded|exhausted)|(limit|credits) (exceeded|reached|exhausted|used up)|(exhausted|used up|ran out of|burned through) (our |the |all )?(monthly |daily )?(quota|allowance|credits|api calls)|(quota|allowance|allocation|credits|limit|budget|entitlement)s? (has |have |had |was |were )?(\w+ ){0,2}(exhausted|used up|consumed|depleted|reached|spent)|\d[\d,.]*\s?[km]? of \d[\d,.]*\s?[km]? (consumed|used)|disk (is |was )?(full|at 100|filled)|(filled|fill) (up )?the disk|no space left|enospc|diskfull|disk ?pressure|\bdf\b[^.;!?]{0,60}\b(100|9[5-9])%|(volume|disk|partition|filesystem|/[\w/]+)\s+(is\s+|at\s+)?(100|9[5-9])\s?%|out of (disk|space|inodes)|inodes|volume (is )?full|licen[cs]e (key )?(expired|lapsed|ran out)|(token|key|credential|password|secret|cert)s? (expired|revoked|lapsed))\b",
    )
});
static INFRASTRUCTURE: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"\b((kernel|node|host|box|vm|instance|server)\s+(\w+\s+){0,3}(hung|wedged|stuck|frozen|unresponsive|locked up)|hung[- ]task|blocked for more than \d+ seconds|soft lockup|hard lockup|read-?only file ?system|(nvme|disk|io|i/o) (timeouts?|hang|stall)|optics?|sfp|transceiver|crc (errors?|counts?)|input errors|bgp (session )?(flap\w*|reset\w*|down|dropp\w*)|(interface|port|link|circuit|uplink) (is )?(flap\w*|errors?|down|degraded|bouncing)|(rx|receive) power|flapp(ing|ed)|host (issue|problem|failure|fault)|hardware (issue|problem|fault|degradation)|instance (failure|retirement)|failover (started|completed|happened|occurred|kicked in)|(writer|primary|master) (failed|crashed|died|went down)|failed over|hardware|pdu|tripped|fallen off the bus|power supply|(host|node|server|box|machine|vm|instance|hypervisor|broker|replica)s?( [\w.-]+)? (died|is dead|went down|is down|failed|failure|crashed|unreachable|lost|retired|degraded|not ?ready|rebooted)|(dead|failed|failing|bad|faulty) (host|node|server|disk|drive|ssd|nvme|nic|switch|psu|dimm|memory)|kernel panic|(disk|drive|ssd|nvme|raid) (failure|failing|errors|died|degraded)|network partition|partitioned|split[- ]brain|(switch|router|tor|top[- ]of[- ]rack) (failure|failed|died|down|flapping)|link flapping|power (loss|outage|failure|cut)|ecc errors?|memory errors?|packet loss|lost (a|the|one) (node|host|rack|az)|rack\b|(disk|drive|node|host|server|nvme|ssd) (is )?dying|i/?o errors?|blk_update_request|bad sectors?|smart (errors?|failure)|hardware errors?|line ?card|spine(-\w+)? switch|(replaced|swapped|replacing) (a |the )?(failed |bad |faulty |dead )?(\w+ )?(card|disk|drive|psu|switch|nic|dimm|node|host)|oom[- ]?kill\w* (on|across) (the )?(host|node)s?|impaired|status checks? failing|retirement notice|underlying (host|hardware)|box is (just )?(gone|dead)|can'?t (even )?ssh)\b",
    )
});
/// A volume compared with its usual level ("inbound 180k ev/s vs usual 40k", "2.9M sockets vs a
/// typical peak of 1M", "50% more subs than last month"): a surge stated with figures.
static VOLUME_SURGE: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"((previous|all-time|prior) (record|peak|high) (was|is|of) (about |around |~)?\d|(jumped|spiked|surged|rose|went|grew|increased|climbed|shot up) from (about |around |~)?\d[\d.,]*\s?[kmb]?\b[^.;!?]{0,25}\bto (about |around |~)?\d|\b(two|three|four|five|six|seven|eight|nine|ten|twenty|\d+)-?fold\b|\b(two|three|four|five|six|seven|eight|nine|ten|twenty|\d+) times (our |the )?(previous |normal |usual |typical |expected )?(peak|normal|usual|baseline|volume|load|traffic)|\d[\d.,]*\s?[kmb]?\b[^.;!?]{0,40}\b(normal(ly)?|usual(ly)?|typical(ly)?|baseline|average|avg)( \w+)? (is|being|was|of|around|about)?\s*~?\d|\d[\d.,]*\s?[kmb]?\b[^.;!?]{0,40}\b(vs\.?|versus|compared (to|with)|against|instead of|where we expected|when we expect|over)\b[^.;!?]{0,25}\b(usual|typical|normal|baseline|forecast|expected|average|avg|last|previous|peak|\d)|\d+(\.\d+)?\s?%\s+more\s+\w+|\b(doubled|tripled|quadrupled)\b|\d+(\.\d+)?\s?x\s+(the\s+)?(forecast|expected|usual|normal|humans|users|customers|traffic|load|volume)|(demand|growth|signups|usage|volume|traffic)\s+(\w+\s+){0,2}(above|over|beyond|exceeded|outgrew)\s+(\w+\s+){0,2}(forecast|plan|capacity|projections?)|under-?provision\w*|outgrew|outgrown|organic growth)",
    )
});
/// What a surge is counted in, so a latency or error figure compared with its usual level is not
/// read as load.
static VOLUME_NOUN: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"\b(traffic|requests?|reqs?|rps|qps|tps|events?|ev/s|msgs?|messages?|users?|sessions?|sockets?|connections?|conns?|signups?|sign-ups?|orders?|subscriptions?|subs|visitors?|logins?|calls?|jobs?|volume|inbound|demand|growth|humans|customers|tenants?|devices?|uploads?|downloads?|searches|queries|writes|reads|records|rows|payloads|webhooks|notifications|emails|sms|pushes|viewers|players|listeners|streams)\b",
    )
});
/// Mitigations that say what kind of cause it was: adding capacity or turning traffic away (load),
/// failing over off broken hardware (infrastructure), renewing or freeing what ran out (expiry),
/// sending traffic to another provider (external).
static MITIGATES_LOAD: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"\b(scal(e|ed|es|ing)\s+(\S+\s+){0,3}(up|out|to\s+\d+)|scal(e|ed|ing)\s+\S+\s+\d+\s*(->|→|to)\s*\d+|throttl\w+\s+(it|them|that|this|\w+)\s+(to|down)|(add|added|adding)\s+(\d+\s+)?(more\s+)?(\w+\s+)?(replicas|pods|nodes|workers|instances|capacity|consumers|shards|servers|hosts|read replicas)|vertical(ly)?\s+scal\w*|pre-?scal\w*|load[- ]shedding|shed(ding)?\s+load|rate[- ]limit(ed|ing)?\s+(the\s+)?(bots?|ips?|crawlers?|scrapers?|clients?|tenants?|them|it|that)|block(ed|ing)?\s+(the\s+)?(bots?|ips?|asns?|crawlers?|scrapers?|user[- ]agents?|ranges?)|waiting room|queue(d|ing)? (the )?(users|visitors)|slow mode|autoscal\w+\s+(kicked|caught|maxed|hit|at)|hit (the |our )?(max|maximum) (replicas|pods|nodes|instances))",
    )
});
static MITIGATES_INFRASTRUCTURE: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"\b(fail(ed|ing)?\s?over\s+(\S+\s+){0,3}(to\s+)?(the\s+)?(replica|standby|secondary db|secondary database|new primary|db|database|node|host|az|zone)|manual failover|failover (done|complete\w*)|promot(e|ed|ing)\s+(the\s+)?(\S+\s+)?(replica|standby|follower|secondary|[\w.-]*\d+)|cordon(ed|ing)?|drain(ed|ing)?\s+(the\s+)?(\S+\s+)?(node|host|box|instance)s?|replac(e|ed|ing)\s+(the\s+)?(\S+\s+)?(disk|drive|nvme|ssd|nic|psu|dimm|node|host|hardware|switch|card|line ?card|optic|transceiver)|(dc|datacenter|data center|hardware|colo|noc)\s+ticket|\brma\b|reboot(ed|ing)?\s+(the\s+)?(\S+\s+)?(host|node|box|server|switch|router|hypervisor)|(moved|migrated|evacuated|rescheduled)\s+(\S+\s+){0,3}off\s+(the\s+)?(\S+\s+)?(host|node|box|hypervisor|rack))",
    )
});
static MITIGATES_EXPIRY: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"\b(renew(ed|ing|al)?|re-?issu(e|ed|ing)|rotat(e|ed|ing)\s+(the\s+)?(\S+\s+)?(cert|certificate|key|token|secret|credential|password)s?|(new|fresh)\s+(\S+\s+)?(cert|certificate|token|api key|key|secret|credential|password)s?|re-?consent\w*|re-?authori[sz]\w*|extend(ed|ing)?\s+(the\s+)?(\S+\s+)?(quota|license|licence|subscription|limit|trial|contract)|(raise|raised|raising|bump(ed)?|increas(e|ed|ing))\s+(the\s+)?(\S+\s+)?(quota|limit|allowance|cap)\b|purg(e|ed|ing)\b|free(d|ing)?\s+(up\s+)?(\d+\s?[gmt]b\s+)?(of\s+)?(disk|space|inodes)|clean(ed|ing)?\s+up\s+(\S+\s+){0,2}(logs|disk|space|files|wal|snapshots|tmp)|(purg|truncat|delet|remov|compress|rotat)(e|ed|es|ing)\s+(the\s+)?(old\s+)?(\S+\s+)?(logs|log files|files|wal|snapshots|core dumps|dumps|backups)|(expand|expanded|grow|grew|resiz(e|ed)|extend(ed)?)\s+(the\s+)?(\S+\s+)?(volume|disk|pvc|filesystem|partition)|paid (the )?invoice|updated? (the )?(card|payment method|billing))",
    )
});
static MITIGATES_EXTERNAL: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"\b((switch|switched|switching|flip|flipped|flipping|shift|shifted|shifting|rout(e|ed|ing)|fail(ed|ing)?\s?over|mov(e|ed|ing)|send(ing)?|sent|point(ed|ing)?|divert(ed|ing)?|re-?rout(e|ed|ing))\s+(\S+\s+){0,5}(to|onto|via|through)\s+(the\s+)?(secondary|backup|fallback|alternate|alternative|other|second|standby)\s+(\S+\s+)?(provider|vendor|acquirer|cdn|dns|carrier|processor|gateway|sender|route|endpoint|psp|region|partner|supplier)|wait(ing|ed)?\s+(for|on)\s+(them|the vendor|the provider|their (fix|recovery|side)))",
    )
});
/// A third party we do not run, whatever its name: "<name>'s status page", "<name> status:", "<name>
/// health dashboard", "<name> says resolved" (the name first); "ticket with <name>" (the name
/// last); "they confirm elevated 5xx" (no name).
static THIRD_PARTY_NAME_FIRST: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"\b([a-z][\w.-]{2,})('s)?\s+((status\s*(page|[:\-]|(is|shows|showing|says|reports|lists|update\w*)\b)|statuspage|health dashboard|service health|support\s*([:\-]|(says|said|confirm\w*|replied|responded|wrote|ticket|case)\b)|twitter)|(says|said|confirms?|confirmed|acknowledg(es|ed)|posted|report(s|ed)|update[sd]?|replied|responded|wrote|told us|emailed)\b[^.;!?]{0,40}\b(resolved|recovered|fixed|mitigat\w*|outage|incident|degrad\w*|elevated|errors?|issues?|problems?|on their (side|end)))",
    )
});
static THIRD_PARTY_NAME_LAST: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"\b(ticket|case|support request|escalat\w+)\s+(with|w/|opened with|filed with|raised with)\s+(?:the\s+)?([a-z][\w.-]{2,})",
    )
});
static THEY_CONFIRM: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"\bthey\s+(confirm\w*|acknowledg\w*|posted|report\w*|say|said)\b[^.;!?]{0,60}\b(outage|incident|degrad\w*|elevated|errors?|issues?|problems?|failures?|5xx|unavailable|mitigat\w*)",
    )
});
/// Words before the third-party pattern's name that are ours or no one's, so "our status page" or
/// "the dashboard says" is not a vendor.
const NOT_A_THIRD_PARTY: &[&str] = &[
    "our",
    "the",
    "its",
    "his",
    "her",
    "my",
    "your",
    "this",
    "that",
    "internal",
    "grafana",
    "dashboard",
    "team",
    "oncall",
    "on-call",
    "someone",
    "everyone",
    "he",
    "she",
    "it",
    "who",
    "which",
    "what",
    "ticket",
    "jira",
    "slack",
    "pagerduty",
    "service",
    "app",
    "api",
    "db",
    "database",
    "cluster",
    "node",
    "host",
    "monitoring",
    "alert",
    "alerts",
    "metrics",
    "logs",
    "sentry",
    "canary",
    "deploy",
    "release",
    "change",
    "pr",
    "incident",
    "status",
];

/// An explicit statement that no change of ours caused it ("no change implicated", "not a
/// regression", "nothing on our side").
static NO_CHANGE: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"\b(no (internal |code |config |recent |deploy(ment)? |our )?(change|changes|deploy|deploys|release|releases|regression|rollout)( of ours| on our side)? (was |were |is |are )?(implicated|involved|to blame|at fault|responsible|related|the cause|caused (it|this|the incident|the outage|the problem))|no (regression|code change|internal change|deploy involved|change involved)|not (a|any|caused by a|caused by any|caused by our|from a|our) (regression|change|deploy|release|code change|config change)|nothing (on|from) our (side|end)( (was )?(implicated|changed|to blame))?|nothing (we|of ours) (changed|shipped|deployed|did)|(none|neither) of (\S+ ){0,2}(changes|deploys|releases|deployments)( \w+)? (was|were|is|are) (responsible|implicated|involved|to blame|the cause)|(none|neither) of (our|the) (changes|deploys|releases)|(changes?|deploys?|releases?) (are|were|was|is) (all )?(unrelated|irrelevant|innocent|not involved|a red herring|coincidental|coincidence))\b",
    )
});

/// "Our status page": ours, not a provider's.
static OUR_STATUS: LazyLock<Regex> = LazyLock::new(|| re(r"\bour (own |public )?status ?page\b"));
/// Words of a recovery ("says mitigated", "back to normal").
static RECOVERED: LazyLock<Regex> = LazyLock::new(|| {
    re(r"\b(mitigated|resolved|recovered|recovering|restored|back to normal|fixed on their)\b")
});
/// Denials that cover a whole clause.
static CLAUSE_DENIAL: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"\b(keep|keeps|keeping|stay|stays|staying|looks?|is|are|seems?|itself)(\s+[a-z']+){0,2}\s+(ok|okay|fine|normal|healthy|green|good)\b|(status ?page|statuspage|dashboard|their side|on their end)[^.;!?]{0,30}\b(green|fine|clear|normal|all good|healthy|operational|nothing)\b|\ball systems operational\b|\bnothing on (their|the) status\b|\b(ruled out|rule out|ruling out|red herring|not (it|the cause|the culprit|the problem|related)|unrelated|no (sign|evidence|indication) of|nothing (unusual|abnormal|weird)|looks? (normal|flat|fine|ok)|is normal|(was|were|is|are) flat)\b",
    )
});
/// A negator close before a match ("not a traffic spike", "no surge", "wasn't the CDN").
static NEGATOR_BEFORE: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"(\b(not|no|never|nothing|without|nor|rule out|ruled out|cant|wont|dont|isnt|wasnt|arent|werent|doesnt|didnt|wouldnt|couldnt|shouldnt)\b|\w+n't\b)(\W+\w+){0,3}\W*$",
    )
});
/// Asking or wondering, which makes a statement weak.
static HEDGE: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"(\?\s*$|\b(could|might|maybe|perhaps|possibly|wonder|is it|was it|are we sure|any chance|checking|check if|let me check|looking at)\b)",
    )
});
/// A change undone: rolled back, reverted, turned off, failed over.
static UNDO: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"\b(roll(ed|ing)? ?back|roll(ed|ing)? (\S+ ){1,3}back|rollback|revert(ed|ing|s)?|undo|undid|backed out|back(ing)? out|pulled (the |that )?(release|deploy|build|flag|change)|turn(ed|ing)? (it |that |this |the \S+ |\S+ ){0,3}off|switch(ed|ing)? (it |that |this |the \S+ |\S+ ){0,3}off|flip(ped|ping)? (it |that |this |the \S+ |\S+ ){0,3}(off|back)|disabl(e|ed|ing)|kill(ed)? ?switch|killed the flag|set (it |the \S+ )?to (false|0|off)|pinned (it |\S+ )?(back|to the previous)|pin(ning)? (it |\S+ )?back|(going|went|go|rolled|rolling|moved|moving) back to v?\d|redeploy(ed)? (the )?previous|(back to|redeploy(ed|ing)?|went back to|go(ing)? back to|rolled back to|restor(e|ed|ing)) (the )?(previous|last good|old) (build|release|version|image|config)|put (it|that|this|them|\S+) back|set (it|that|\S+) back|back (it|that|this) out|restored?|(paus(e|ed|ing)|halt(ed|ing)?) (the )?(rollout|backfill|migration|deploy|experiment|ramp|sync|import)|stop(ped|ping)? (the )?(job|backfill|rollout|migration|sync)|(flag|toggle|feature) (is )?off|(set|switched|turned|flipped) off|off now)\b",
    )
});
/// A change ruled out by its timing or by a person ("no, that was reverted at 13:10").
static DISMISS: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"(^\s*(no|nope|nah)\b|\b(don'?t think|do not think|not it|not the (cause|culprit|problem|issue)|ruled? out|ruling out|unrelated|not related|red herring|isn'?t (the|it)|wasn'?t (the|it)|can'?t be|cannot be|couldn'?t be|only touched|doesn'?t touch|didn'?t touch|never (reached|shipped|made it)|(already|was|were) (been )?(reverted|rolled back) (at|before|earlier|yesterday|last)|reverted (it )?(before|earlier|yesterday|last (week|night))|(hours|days) before|long before|way before|before (the|this) (incident|page|alert)|not deployed|wasn'?t deployed|never deployed|only (in|on) (staging|dev|preview)|\bnope\b|\bnot (that|this)\b|isn'?t that|can'?t (affect|break|touch|do|cause)|cant (affect|break|touch|do|cause|be)|nothing('s| is) (writing|reading|using|calling)|not (used|wired up|live|enabled|serving) yet|schema only|innocent|obviously not|not involved|isn'?t involved|wasn'?t involved|not relevant|irrelevant|didn'?t do (this|it|that)|did not do (this|it)|can'?t (make|cause|explain)|couldn'?t (make|cause|explain)|doesn'?t explain|wouldn'?t (cause|explain|do)|(has )?nothing to do with|only (changed|touched|affects|affected|changes)|doesn'?t add|unlikely|rules? (it|that) out|(that'?s|it'?s|that is|it is|was) (just|only) (a|the|some) |\b(it'?s|that'?s) fine\b|\bleav(e|ing) (it|that|\S+) (in place|alone|as is)\b|\bleaving v?\d[\w.]*|been (running )?in canary|not (our|the) (deploy|change|config|release)|\b(it|that|this|they|which) (was|were|is|are|looks|looked) (fine|ok|okay|innocent|clean|good|healthy|harmless)\b|\bnah\b|\b(doesn'?t|does not|wouldn'?t|would not|don'?t) care\b|\b(alters|changes|touches|modifies|affects|adds|updates|tweaks)( [\w.-]+){1,4} only\b|\bno (spike|jump|change|increase|difference) (after|since|following|with)\b|\bnever (blipped|flinched|moved|wobbled)\b|\bunaffected\b|\b(was|were|has been|have been) (checked|reviewed|investigated|looked at|verified)( and (cleared|ruled out|excluded|found (fine|clean)))?\b|\b(not|never|didn'?t|did not|won'?t|will not|no need to|decided not to|chose not to|held off( on)?|hold(ing)? (off|the)|without)\s+(\w+\s+)?(roll(ed|ing)?\s?back|rollback|revert\w*|disabl\w*)|\b(off the hook|in the clear|exonerated|not guilty|moot)\b|\b(doesn'?t|does not|don'?t|didn'?t) matter\b|\b(started|began|errors|failures|it|this)\b[^.;!?]{0,30}\bbefore (it|that|this|the (deploy|release|change|flag|config)|v?\d)|\b(overhead|impact|cost|effect|risk|footprint) (is|was) (nothing|negligible|tiny|minimal|zero|none|noise)\b|\b(so|then|ok|okay|definitely|def|probably|prob|clearly)[ ,]+not (the|our|that|this|it)\b|\b(change|diff|deploy|fix|pr|release) (is|was) (tiny|trivial|small|minor|harmless|cosmetic|just)\b|\b(is|was|it'?s|its|that'?s|thats) (just |purely )?(\w+ )?(logging|logs?|log field|metrics?|docs?|ui|css|copy|strings?|cosmetic|tests?|comments?|readme|dashboards?|telemetry|tracing|observability|labels?|front-?end) only\b|\bran (fine|ok|okay|clean|cleanly)\b|\b[a-z]+-only\b|ran (\d+ ?(min|mins|m|minutes|h|hours) )?clean|(thats|that'?s|it'?s|its|it is|that is) (just|only|purely)\b|\bnot (us|ours)\b|fine to leave|\b(cosmetic|harmless|benign|no-?op)\b|would(ve|'ve| have) (blown up|shown up|broken|failed|fired|paged) (\w+ )?(sooner|earlier)|diff is (tiny|small|trivial|\d+ lines)|(merged|shipped|went out|deployed|landed) (\d+ )?(days|weeks) ago|no (overlap|correlation)|doesn'?t (line up|match|correlate|fit)|timing (doesn'?t|does not|don'?t) (fit|match|work|line up)|same (errors?|failures?|behaviou?r) (on|with|in) (the )?(canary|old|previous|rolled)))",
    )
});

/// Clauses of a message: sentences, and the two sides of "but" / "however".
pub fn clauses(text: &str) -> Vec<&str> {
    static SPLIT: LazyLock<Regex> =
        LazyLock::new(|| re(r"[.;!\n]+\s|\?\s+|\s+(but|however|although|though|—|--)\s+"));
    SPLIT
        .split(text)
        .map(str::trim)
        .filter(|c| !c.is_empty())
        .collect()
}

/// What `text` says about each claim, strongest stance per claim.
pub fn claims(text: &str) -> Vec<(Claim, Stance)> {
    let mut out: Vec<(Claim, Stance)> = Vec::new();
    // Questions keep their "?" so the hedge rule sees it.
    for clause in clauses(text) {
        for claim in Claim::ALL {
            if let Some(stance) = stance(clause, claim) {
                match out.iter_mut().find(|(c, _)| *c == claim) {
                    Some((_, s)) => *s = stronger(*s, stance),
                    None => out.push((claim, stance)),
                }
            }
        }
    }
    out
}

fn stronger(a: Stance, b: Stance) -> Stance {
    use Stance::*;
    match (a, b) {
        (Strong, _) | (_, Strong) => Strong,
        (Weak, _) | (_, Weak) => Weak,
        _ => Denied,
    }
}

fn stance(clause: &str, claim: Claim) -> Option<Stance> {
    let (hit, strong) = match claim {
        Claim::External => {
            let provider = PROVIDER
                .find(clause)
                .or_else(|| {
                    PROVIDER_ADMITS
                        .find(clause)
                        .filter(|m| m.as_str().contains("status"))
                })
                .or_else(|| third_party(clause));
            let Some(provider) = provider else {
                return MITIGATES_EXTERNAL.find(clause).map(|_| Stance::Weak);
            };
            // Our own status page speaks of us, not of a provider.
            if OUR_STATUS.is_match(clause) && PROVIDER.find(clause).is_none() {
                return None;
            }
            let admits = PROVIDER_ADMITS.is_match(clause) || third_party(clause).is_some();
            if !admits && !FAILURE.is_match(clause) {
                return None;
            }
            (provider, admits)
        }
        Claim::Load => match LOAD_STRONG.find(clause).or_else(|| {
            VOLUME_SURGE
                .find(clause)
                .filter(|_| VOLUME_NOUN.is_match(clause))
        }) {
            Some(m) => (m, true),
            None => (
                LOAD_WEAK
                    .find(clause)
                    .or_else(|| MITIGATES_LOAD.find(clause))?,
                false,
            ),
        },
        Claim::Expiry => match EXPIRY.find(clause) {
            Some(m) => (m, true),
            None => match EXPIRY_WEAK.find(clause) {
                Some(m) => (
                    m,
                    EXPIRY_SUBJECT.is_match(clause) || EXPIRED_WHEN.is_match(clause),
                ),
                None => (MITIGATES_EXPIRY.find(clause)?, false),
            },
        },
        Claim::Infrastructure => match INFRASTRUCTURE.find(clause) {
            Some(m) => (m, true),
            None => (MITIGATES_INFRASTRUCTURE.find(clause)?, false),
        },
    };
    let before = &clause[..hit.start()];
    if NEGATOR_BEFORE.is_match(before) || CLAUSE_DENIAL.is_match(clause) {
        // "Adyen says mitigated, test payments look normal" reports recovery, not a denial.
        if RECOVERED.is_match(clause) {
            return Some(Stance::Weak);
        }
        return Some(Stance::Denied);
    }
    if !strong || HEDGE.is_match(clause) {
        return Some(Stance::Weak);
    }
    Some(Stance::Strong)
}

/// The third party a clause names by what is said of it ("acquiro status: partial outage",
/// "ticket w/ fastedge, they confirm elevated 5xx"), when its name is not one of ours.
fn third_party(clause: &str) -> Option<regex::Match<'_>> {
    let ours = |name: &str| NOT_A_THIRD_PARTY.contains(&name.to_lowercase().as_str());
    THIRD_PARTY_NAME_FIRST
        .captures_iter(clause)
        .find(|c| !ours(&c[1]))
        .or_else(|| {
            THIRD_PARTY_NAME_LAST
                .captures_iter(clause)
                .find(|c| !ours(&c[3]))
        })
        .and_then(|c| c.get(0))
        .or_else(|| THEY_CONFIRM.find(clause))
}

/// Does the message state that no change of ours caused it ("no internal change implicated",
/// "not a regression")? Asked or guessed, it does not.
pub fn no_change_stated(text: &str) -> bool {
    clauses(text)
        .iter()
        .any(|c| NO_CHANGE.is_match(c) && !HEDGE.is_match(c))
}

/// Does the message report undoing something (a rollback, a revert, a flag turned off)?
pub fn undoes(text: &str) -> bool {
    UNDO.is_match(text)
}

/// Is the message a question or a guess ("could it be…?", "maybe")?
pub fn hedged(text: &str) -> bool {
    HEDGE.is_match(text) || text.contains('?') || GUESS.is_match(text)
}

static GUESS: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"\b(first guess|my guess|guessing|suspect|hunch|just a thought|i'?ll|we'?ll|going to|gonna|prep(ping|are)?|prepar\w*|plan(ning)? to|about to|consider(ing)?|would like to|i will|we will|ready to|should we|shall we|want me to|can we|could we|hold on|actually hold|wait)\b",
    )
});

/// Does the message own up to a change ("my bad", "ugh, that's on me")? It points at the change
/// under discussion.
pub fn admits_fault(text: &str) -> bool {
    static ADMITS: LazyLock<Regex> = LazyLock::new(|| {
        re(
            r"\b(my bad|my fault|my mistake|mea culpa|(that'?s|thats|it'?s|its) on me|i broke|we broke|i messed (it )?up|i screwed (it )?up|oops|whoops|guilty)\b",
        )
    });
    ADMITS.is_match(text) && !HEDGE.is_match(text)
}

/// Does the message say an undo did not help ("rolled back, errors unchanged")?
pub fn no_better(text: &str) -> bool {
    static NO_BETTER: LazyLock<Regex> = LazyLock::new(|| {
        re(
            r"\b(unchanged|didn'?t (help|change|fix|do|move|make|improve)|did not (help|change|fix|do|move|improve)|doesn'?t (help|change anything|fix)|no (change|difference|improvement|diff|effect|better|dice|luck|joy)|made no difference|nothing changed|still (\d|\w+ing|nothing|zero|no |the same|same|broken|bad|down|high|elevated|red|stuck|there|at \d|0|5xx|500|erroring|failing)|same (errors?|thing|picture|rate|numbers?|behaviou?r|failures?|symptoms?|error rate)|(^|\s)same([.!]|\s*$)|not (better|fixed|it)\b|(errors?|failures?|rate|it|problem|issue) (persist\w*|continu\w*|remain\w*)|keeps? (failing|erroring|happening))",
        )
    });
    NO_BETTER.is_match(text)
}

/// Does the message put a change back ("redeployed 5.5.6", "re-enabling bnpl", "re-apply v19"),
/// which clears it, unless it speaks of a fix first ("re-enable once fixed")?
pub fn exonerates(text: &str) -> bool {
    static PUT_BACK: LazyLock<Regex> = LazyLock::new(|| {
        re(
            r"\b(re-?deploy(ed|ing)? v?\d|re-?appl(y|ied|ying)|re-?enabl(e|ed|ing)|re-?ship(ped|ping)?|re-?land(ed|ing)?|stays|can stay|stay put|keep(ing)? (it|\S+) (on|in|deployed|live))\b",
        )
    });
    static CONDITION: LazyLock<Regex> = LazyLock::new(|| {
        re(r"\b(fix\w*|once|after|before|first|when|until|test|tests|guard|check|patch\w*)\b")
    });
    clauses(text)
        .iter()
        .any(|c| PUT_BACK.is_match(c) && !CONDITION.is_match(c) && !HEDGE.is_match(c))
}

/// Does the text, after a "but", say plainly what the problem is instead ("but this is dns", "but
/// it's the queue")? A guess or a check in progress does not.
pub fn says_instead(text: &str) -> bool {
    static INSTEAD: LazyLock<Regex> = LazyLock::new(|| {
        re(
            r"^\W*(this|it|that|the (problem|issue|error|failure|errors|failures))('s| is| was| are|s)\b",
        )
    });
    INSTEAD.is_match(text) && !hedged(text)
}

/// Does a state change's text carry a responder's remark after it ("Resolved by Marcus. Root cause:
/// …", "Acknowledged by Ana. Looking at the vendor")?
pub fn carries_remark(text: &str) -> bool {
    static REMARK: LazyLock<Regex> =
        LazyLock::new(|| re(r"^\s*(resolved|acknowledged)( by [^.:;]+)?[.:;]\s+\S"));
    REMARK.is_match(text)
}

/// Does the message rule something out?
pub fn dismisses(text: &str) -> bool {
    DISMISS.is_match(text) || no_change_stated(text)
}

/// Does the message point back at something said before ("that", "it") rather than name it?
pub fn refers_back(text: &str) -> bool {
    static ANAPHOR: LazyLock<Regex> = LazyLock::new(|| re(r"\b(that|it|this|those|these)\b"));
    ANAPHOR.is_match(text)
}

/// A mitigation worth praising: something undone now, not something ruled out or undone long ago.
pub fn reports_mitigation(text: &str) -> bool {
    undoes(text) && !dismisses(text)
}

/// Another service the message says is failing or was undone ("checkout calls to ledger are
/// timing out", "ledger rolled back its release"): the names of `services` (canonical name and
/// aliases) it states that of, with whether it says the service undid something.
pub fn failing_services<'a>(text: &str, services: &'a [ServiceName]) -> Vec<(&'a str, bool)> {
    let mut out: Vec<(&str, bool)> = Vec::new();
    for clause in clauses(text) {
        let lower = clause.to_lowercase();
        for s in services {
            if !s.pattern.is_match(&lower) {
                continue;
            }
            if CLAUSE_DENIAL.is_match(clause) {
                continue;
            }
            // A failure or an undo must be stated, not asked.
            let stated = !hedged(clause);
            let failing = stated && (FAILURE.is_match(clause) || DEPENDENCY.is_match(clause));
            let undone = stated && undoes(clause);
            if !(failing || undone) {
                continue;
            }
            match out.iter_mut().find(|(n, _)| *n == s.name) {
                Some((_, u)) => *u |= undone,
                None => out.push((&s.name, undone)),
            }
        }
    }
    out
}

/// Does the message say someone else (another team) undid something ("they rolled back to v30",
/// "the inventory folks reverted")? Asking them to is not doing it.
pub fn third_party_undo(text: &str) -> bool {
    static THEY: LazyLock<Regex> = LazyLock::new(|| {
        re(r"\b(they|they'?re|theyre|their|them|team|folks|oncall|on-call|owners|people)\b")
    });
    static ASKED: LazyLock<Regex> = LazyLock::new(|| {
        re(
            r"\b((ask(ed|ing)?|ping(ed|ing)?|request(ed|ing)?|need|needs|want) (them|\w+( \w+)?) to|request(ed|ing)? (a |an |the )?(revert|rollback|roll back)|waiting (for|on) (them|\w+) to|can (they|you|\w+) (revert|roll))\b",
        )
    });
    clauses(text)
        .iter()
        .any(|c| THEY.is_match(c) && undoes(c) && !ASKED.is_match(c) && !hedged(c))
}

/// Words that put a service upstream of another.
static DEPENDENCY: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"\b(calls? (to|into)|requests? to|downstream of|upstream|depends on|dependency|because of|caused by|blame|the culprit|is the problem|is where)\b",
    )
});

/// Words of compound service names too common in talk to stand for the service alone ("prompt" of
/// prompt-router, "cache" of session-cache): kinds of change and everyday infrastructure nouns.
const COMMON_WORDS: &[&str] = &[
    "prompt",
    "model",
    "deploy",
    "config",
    "migration",
    "schema",
    "index",
    "release",
    "build",
    "router",
    "gateway",
    "proxy",
    "cache",
    "queue",
    "events",
    "event",
    "search",
    "email",
    "users",
    "admin",
    "worker",
    "workers",
    "server",
    "client",
    "front",
    "frontend",
    "internal",
    "public",
    "mobile",
    "store",
    "storage",
    "assets",
    "images",
    "image",
    "media",
    "stream",
    "streams",
    "session",
    "sessions",
    "token",
    "tokens",
    "orders",
    "order",
    "cluster",
    "batch",
    "scheduler",
    "jobs",
    "service",
    "platform",
    "portal",
    "report",
    "reports",
];

/// A service and the ways people write its name.
#[derive(Debug, Clone)]
pub struct ServiceName {
    pub name: String,
    pattern: Regex,
}

impl ServiceName {
    /// `name` (e.g. `ledger-svc`) matched as itself, with spaces for dashes, and without a
    /// generic suffix (`ledger`) when what remains is distinctive.
    pub fn new(name: &str) -> Self {
        const SUFFIXES: &[&str] = &[
            "-svc", "-service", "-api", "-web", "-worker", "-app", "-server", "_svc", "_service",
            "-backend", "-srv",
        ];
        const GENERIC: &[&str] = &["api", "web", "app", "core", "main", "service", "backend"];
        let lower = name.to_lowercase();
        let mut forms = vec![
            regex::escape(&lower),
            regex::escape(&lower.replace(['-', '_'], " ")),
        ];
        for s in SUFFIXES {
            if let Some(stem) = lower.strip_suffix(s)
                && stem.len() >= 3
                && !GENERIC.contains(&stem)
            {
                forms.push(regex::escape(stem));
                forms.push(regex::escape(&stem.replace(['-', '_'], " ")));
            }
        }
        // Each distinctive word of a compound name ("fraud" of fraud-scorer).
        for word in lower.split(['-', '_']) {
            let suffix = format!("-{word}");
            if word.len() >= 5
                && !GENERIC.contains(&word)
                && !COMMON_WORDS.contains(&word)
                && !SUFFIXES.contains(&suffix.as_str())
            {
                forms.push(regex::escape(word));
            }
        }
        forms.sort();
        forms.dedup();
        let pattern = Regex::new(&format!(r"(^|[^\w-])({})($|[^\w-])", forms.join("|")))
            .expect("escaped names form a valid pattern");
        ServiceName {
            name: name.to_string(),
            pattern,
        }
    }

    pub fn is_named_in(&self, text: &str) -> bool {
        self.pattern.is_match(&text.to_lowercase())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use Claim::*;
    use Stance::*;

    fn stance_of(text: &str, claim: Claim) -> Option<Stance> {
        claims(text)
            .into_iter()
            .find(|(c, _)| *c == claim)
            .map(|(_, s)| s)
    }

    #[test]
    fn a_provider_with_failure_words_is_external_and_its_status_page_makes_it_strong() {
        assert_eq!(
            stance_of("Stripe status page shows elevated API errors", External),
            Some(Strong)
        );
        assert_eq!(
            stance_of("twilio is returning 503s for sms sends", External),
            Some(Weak)
        );
        assert_eq!(stance_of("deployed the stripe client bump", External), None);
    }

    #[test]
    fn a_third_party_is_known_by_what_is_said_of_it_not_by_a_list_of_names() {
        for t in [
            "acquiro status: 'Partial outage: EU authorization'",
            "ticket w/ fastedge, they confirm elevated 5xx at SYD POPs",
            "veritel says resolved",
            "stratus cloud health dashboard: increased error rates for object storage",
        ] {
            assert_eq!(stance_of(t, External), Some(Strong), "{t}");
        }
        // Ours, not a vendor.
        assert_eq!(stance_of("our status page is updated", External), None);
        assert_eq!(
            stance_of("the dashboard says errors are up", External),
            None
        );
    }

    #[test]
    fn mitigations_suggest_the_kind_of_cause() {
        assert_eq!(stance_of("scaling fanout 30 -> 80", Load), Some(Weak));
        assert_eq!(
            stance_of("rate limited the clients at the edge", Load),
            Some(Weak)
        );
        assert_eq!(
            stance_of("promoting pg-ledger-02, manual failover", Infrastructure),
            Some(Weak)
        );
        assert_eq!(
            stance_of("cordoned and drained the node", Infrastructure),
            Some(Weak)
        );
        assert_eq!(
            stance_of("re-consented, new refresh token in vault", Expiry),
            Some(Weak)
        );
        assert_eq!(
            stance_of("freed 40GB of disk by purging old logs", Expiry),
            Some(Weak)
        );
        assert_eq!(
            stance_of("shifting EU traffic to the secondary acquirer", External),
            Some(Weak)
        );
    }

    #[test]
    fn a_volume_against_its_usual_level_is_a_surge_but_a_latency_is_not() {
        for t in [
            "inbound 180k ev/s vs usual 40k",
            "concurrent sockets 2.9M vs typical peak 1M",
            "2.1M subscriptions vs 1.4M in the august run",
            "50% more subs than last month",
        ] {
            assert_eq!(stance_of(t, Load), Some(Strong), "{t}");
        }
        assert_eq!(stance_of("p99 8s vs usual 200ms", Load), None);
    }

    #[test]
    fn no_change_of_ours_is_a_statement_of_its_own() {
        for t in [
            "acquirer outage. no internal change implicated",
            "capacity, no regression",
            "not a regression, nothing on our side changed",
            "the deploys were all unrelated",
        ] {
            assert!(no_change_stated(t), "{t}");
        }
        assert!(!no_change_stated("was it a change on our side?"));
        assert!(!no_change_stated("rolled back the change"));
    }

    #[test]
    fn a_green_status_page_rules_the_provider_out() {
        assert_eq!(
            stance_of(
                "processor status page is green and their p50 looks normal",
                External
            ),
            Some(Denied)
        );
    }

    #[test]
    fn load_needs_a_surge_to_be_strong() {
        assert_eq!(
            stance_of("traffic spike from the spring campaign email", Load),
            Some(Strong)
        );
        assert_eq!(stance_of("we're at 6x normal traffic", Load), Some(Strong));
        assert_eq!(stance_of("pool saturated under load", Load), Some(Weak));
        assert_eq!(
            stance_of("not a traffic spike, rps is flat", Load),
            Some(Denied)
        );
    }

    #[test]
    fn expiries_of_certificates_quotas_and_disks() {
        for t in [
            "the TLS cert expired at 00:00 UTC",
            "x509: certificate has expired or is not yet valid",
            "we burned through the monthly quota for geocoding",
            "no space left on device on the log volume",
            "api key for the maps vendor was revoked",
        ] {
            assert_eq!(stance_of(t, Expiry), Some(Strong), "{t}");
        }
    }

    #[test]
    fn infrastructure_is_hosts_disks_and_networks_failing() {
        for t in [
            "node ip-10-2-3-4 went down, kubelet NotReady",
            "kernel panic on db-7",
            "failing nvme on the primary, raid degraded",
            "looks like a network partition between the two racks",
        ] {
            assert_eq!(stance_of(t, Infrastructure), Some(Strong), "{t}");
        }
    }

    #[test]
    fn questions_and_hedges_are_weak() {
        assert_eq!(
            stance_of("could the cert have expired?", Expiry),
            Some(Weak)
        );
        assert_eq!(stance_of("is it a ddos?", Load), Some(Weak));
    }

    #[test]
    fn clauses_split_on_but_so_one_side_can_deny_and_the_other_state() {
        let c = claims("not a traffic spike, but the CDN is down in EU");
        assert!(
            c.contains(&(External, Weak)) || c.contains(&(External, Strong)),
            "{c:?}"
        );
        assert!(c.contains(&(Load, Denied)), "{c:?}");
    }

    #[test]
    fn undoing_covers_rollbacks_reverts_and_flags_turned_off() {
        for t in [
            "rolling back v2.3.1",
            "reverted the config",
            "turned new-checkout-flow off, errors gone",
            "flipped the flag back",
            "disabled eu_pricing_v2",
        ] {
            assert!(undoes(t), "{t}");
        }
        assert!(!undoes("errors are back to normal"));
    }

    #[test]
    fn ruling_out_reads_timing_and_plain_no() {
        for t in [
            "no, that was reverted at 13:10",
            "not it, that deploy only touched the admin UI",
            "ruled out the migration",
            "red herring",
            "that went out hours before the alert",
            "nah, metrics-only and we ran 25 min clean",
            "thats only strings.json. diffed it",
            "holiday banner is cosmetic, not touching it",
            "4.13 has been out 40 min, it wouldve blown up way sooner",
        ] {
            assert!(dismisses(t), "{t}");
        }
        assert!(!dismisses("rolled back deploy-77, recovering"));
        assert!(!reports_mitigation("no, that was reverted at 13:10"));
        assert!(reports_mitigation("rolled back deploy-77, recovering"));
    }

    #[test]
    fn services_are_found_by_name_alias_and_failure_words() {
        let names = [ServiceName::new("ledger-svc"), ServiceName::new("web-api")];
        assert_eq!(
            failing_services("checkout calls to the ledger are timing out", &names),
            vec![("ledger-svc", false)]
        );
        assert_eq!(
            failing_services("Ledger SVC team rolled back their release", &names),
            vec![("ledger-svc", true)]
        );
        assert!(failing_services("ledger looks healthy, not related", &names).is_empty());
        // "api" alone is too generic to stand for web-api.
        assert!(failing_services("api errors everywhere", &names).is_empty());
    }
}
