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
        r"\b(status ?page|statuspage|status\.\w+|status\s*[:\-]|health dashboard|their (incident|postmortem|rca)|(major|partial) outage|confirmed (an |the )?(outage|incident|issue)|acknowledged (an |the )?(outage|incident|issue)|posted an incident|regional outage|provider outage|vendor outage|investigating|identified|(says|said|confirms?|confirmed) (it'?s |they'?re |they |it )?(recovered|resolved|fixed|mitigated|on their (side|end))|(it'?s|its|it is|this is|that'?s) (the|a|their|an) (\w+ ){0,2}(provider|vendor|cdn|dns|isp|carrier|upstream|region))\b",
    )
});
static LOAD_STRONG: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"\b((traffic|request|load|signup|order|login|checkout)s? (spike|surge|jump|burst|flood|wave)|(spike|surge|jump|burst|flood|wave) (in|of) (traffic|requests|load|signups|orders|logins|users|visitors)|\d+(\.\d+)?\s?x (the )?(normal|usual|baseline|typical|regular)? ?(traffic|load|rps|qps|requests|volume)|campaign|promo(tion)?|marketing (email|push|blast|send)|email blast|newsletter|went viral|viral|bot(s|net)?|scrapers?|crawlers?|ddos|retry storm|thundering herd|flash sale|black friday|cyber monday|push notification|tv (ad|spot)|super bowl|hug of death|traffic (is|was) (way )?up|more traffic than|(requests|traffic|rps|qps|load|volume|signups|logins|orders|calls)\s+(\w+\s+){0,3}\d+(\.\d+)?\s?x|\d+(\.\d+)?\s?x (normal|usual|baseline|typical)|push (went out|notification|campaign)|marketing('s)?\b.{0,30}\b(push|email|campaign|blast|send)|front page of|(reddit|hacker news|tiktok) front page|trending|credential stuffing|brute[- ]force|(bot|ddos|scraping|spam) (attack|traffic|wave)|attack traffic|under attack)\b",
    )
});
static LOAD_WEAK: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"\b(traffic|load|rps|qps|capacity|overloaded|saturated|saturation|maxed out|autoscal\w*|scal(e|ed|ing) (up|out)|peak|not enough (of them|workers|capacity|instances|pods|replicas)|attack)\b",
    )
});
/// Bare expiry words: caches expire too, so alone they only suggest it.
static EXPIRY_WEAK: LazyLock<Regex> = LazyLock::new(|| {
    re(r"\b(expired|expiry|expiring|expires|lapsed|ran out|cap|revoked|rotated out|invalidated)\b")
});
/// What expires: with a bare expiry word in the same clause, an expiry is stated.
static EXPIRY_SUBJECT: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"\b(cert|certs|certificate|certificates|tls|ssl|license|licence|token|api key|key|credential|credentials|password|secret|domain|subscription|contract|quota)\b",
    )
});
static EXPIRY: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"\b((cert|certificate|tls|ssl|license|licence|token|key|credential|password|secret|domain|subscription|contract)s? (has |have |had |is |was )?(expired|lapsed|expiring|ran out)|(expired|expiring|lapsed) (cert|certificate|tls|ssl|license|licence|token|key|credential|password|secret|domain|subscription)s?|licen[cs]e ?error|insufficient_quota|spend(ing)? (cap|limit)|billing (cap|limit)|(hit|reached|exceeded|maxed) (the |our |its |their )?(\w+ )?(cap|quota|limit|allowance)|x\.?509|not ?after|certificate has expired|cert(ificate)?s? (is |was |has |have )?(expired|lapsed|out of date)|quota|allowance|rate[- ]limit(ed|s)? (hit|reached|exceeded|exhausted)|(limit|credits) (exceeded|reached|exhausted|used up)|(exhausted|used up|ran out of|burned through) (our |the |all )?(monthly |daily )?(quota|allowance|credits|api calls)|disk (is |was )?(full|at 100|filled)|(filled|fill) (up )?the disk|no space left|out of (disk|space|inodes)|inodes|volume (is )?full|licen[cs]e (key )?(expired|lapsed|ran out)|(token|key|credential|password|secret|cert)s? (expired|revoked|lapsed))\b",
    )
});
static INFRASTRUCTURE: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"\b(hardware|pdu|tripped|fallen off the bus|power supply|(host|node|server|box|machine|vm|instance|hypervisor|broker|replica)s?( [\w.-]+)? (died|is dead|went down|is down|failed|failure|crashed|unreachable|lost|retired|degraded|not ?ready|rebooted)|(dead|failed|failing|bad|faulty) (host|node|server|disk|drive|ssd|nvme|nic|switch|psu|dimm|memory)|kernel panic|(disk|drive|ssd|nvme|raid) (failure|failing|errors|died|degraded)|network partition|partitioned|split[- ]brain|(switch|router|tor|top[- ]of[- ]rack) (failure|failed|died|down|flapping)|link flapping|power (loss|outage|failure|cut)|ecc errors?|memory errors?|packet loss|lost (a|the|one) (node|host|rack|az)|rack\b|(disk|drive|node|host|server|nvme|ssd) (is )?dying|i/?o errors?|blk_update_request|bad sectors?|smart (errors?|failure)|hardware errors?|line ?card|spine(-\w+)? switch|(replaced|swapped|replacing) (a |the )?(failed |bad |faulty |dead )?(\w+ )?(card|disk|drive|psu|switch|nic|dimm|node|host)|oom[- ]?kill\w* (on|across) (the )?(host|node)s?|impaired|status checks? failing|retirement notice|underlying (host|hardware)|box is (just )?(gone|dead)|can'?t (even )?ssh)\b",
    )
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
        r"\b(not|no|never|nothing|without|isn't|wasn't|aren't|weren't|doesn't|didn't|don't|n't|nor|rule out|ruled out)\b(\W+\w+){0,3}\W*$",
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
        r"\b(roll(ed|ing)? ?back|rollback|revert(ed|ing|s)?|undo|undid|backed out|back(ing)? out|pulled (the |that )?(release|deploy|build|flag|change)|turn(ed|ing)? (it |that |this |the \S+ |\S+ ){0,3}off|switch(ed|ing)? (it |that |this |the \S+ |\S+ ){0,3}off|flip(ped|ping)? (it |that |this |the \S+ |\S+ ){0,3}(off|back)|disabl(e|ed|ing)|kill(ed)? ?switch|killed the flag|set (it |the \S+ )?to (false|0|off)|pinned (it |\S+ )?(back|to the previous)|pin(ning)? (it |\S+ )?back|redeploy(ed)? (the )?previous|previous (build|release|version)|put (it|that|this|them|\S+) back|set (it|that|\S+) back|back (it|that|this) out|restored?|paus(e|ed|ing)|halt(ed|ing)?|stop(ped|ping)? (the )?(job|backfill|rollout|migration|sync)|(flag|toggle|feature) (is )?off|(set|switched|turned|flipped) off|off now)\b",
    )
});
/// A change ruled out by its timing or by a person ("no, that was reverted at 13:10").
static DISMISS: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"(^\s*(no|nope|nah)\b|\b(don'?t think|do not think|not it|not the (cause|culprit|problem|issue)|ruled? out|ruling out|unrelated|not related|red herring|isn'?t (the|it)|wasn'?t (the|it)|can'?t be|cannot be|couldn'?t be|only touched|doesn'?t touch|didn'?t touch|never (reached|shipped|made it)|(already|was|were) (been )?(reverted|rolled back) (at|before|earlier|yesterday|last)|reverted (it )?(before|earlier|yesterday|last (week|night))|(hours|days) before|long before|way before|before (the|this) (incident|page|alert)|not deployed|wasn'?t deployed|never deployed|only (in|on) (staging|dev|preview)|\bnope\b|\bnot (that|this)\b|isn'?t that|can'?t (affect|break|touch|do|cause)|cant (affect|break|touch|do|cause|be)|nothing('s| is) (writing|reading|using|calling)|not (used|wired up|live|enabled|serving) yet|schema only|innocent|obviously not|not involved|isn'?t involved|wasn'?t involved|not relevant|irrelevant|didn'?t do (this|it|that)|did not do (this|it)|can'?t (make|cause|explain)|couldn'?t (make|cause|explain)|doesn'?t explain|wouldn'?t (cause|explain|do)|(has )?nothing to do with|only (changed|touched|affects|affected|changes)|doesn'?t add|unlikely|rules? (it|that) out|(that'?s|it'?s|that is|it is|was) (just|only) (a|the|some) |\b(it'?s|that'?s) fine\b|\bleav(e|ing) (it|that|\S+) (in place|alone|as is)\b|\bleaving v?\d[\w.]*|been (running )?in canary|not (our|the) (deploy|change|config|release)))",
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
            let provider = PROVIDER.find(clause).or_else(|| {
                PROVIDER_ADMITS
                    .find(clause)
                    .filter(|m| m.as_str().contains("status"))
            })?;
            let admits = PROVIDER_ADMITS.is_match(clause);
            if !admits && !FAILURE.is_match(clause) {
                return None;
            }
            (provider, admits)
        }
        Claim::Load => match LOAD_STRONG.find(clause) {
            Some(m) => (m, true),
            None => (LOAD_WEAK.find(clause)?, false),
        },
        Claim::Expiry => match EXPIRY.find(clause) {
            Some(m) => (m, true),
            None => {
                let m = EXPIRY_WEAK.find(clause)?;
                (m, EXPIRY_SUBJECT.is_match(clause))
            }
        },
        Claim::Infrastructure => (INFRASTRUCTURE.find(clause)?, true),
    };
    let before = &clause[..hit.start()];
    if NEGATOR_BEFORE.is_match(before) || CLAUSE_DENIAL.is_match(clause) {
        return Some(Stance::Denied);
    }
    if !strong || HEDGE.is_match(clause) {
        return Some(Stance::Weak);
    }
    Some(Stance::Strong)
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
        r"\b(first guess|my guess|guessing|suspect|hunch|just a thought|i'?ll|we'?ll|going to|gonna|prep(ping|are)?|ready to|should we|shall we|want me to|can we|could we|hold on|actually hold|wait)\b",
    )
});

/// Does the message say an undo did not help ("rolled back, errors unchanged")?
pub fn no_better(text: &str) -> bool {
    static NO_BETTER: LazyLock<Regex> = LazyLock::new(|| {
        re(
            r"\b(unchanged|didn'?t help|did not help|didn'?t do anything|didnt do anything|no (change|difference|improvement|diff|effect)|still (failing|erroring|broken|down|bad|happening|there|seeing)|same (errors?|thing)|not (better|fixed))\b",
        )
    });
    NO_BETTER.is_match(text)
}

/// Does the message rule something out?
pub fn dismisses(text: &str) -> bool {
    DISMISS.is_match(text)
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
    static ASKED: LazyLock<Regex> =
        LazyLock::new(|| re(r"\b(ask(ed|ing)?|ping(ed|ing)?|request(ed|ing)?|waiting)\b"));
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
            if word.len() >= 5 && !GENERIC.contains(&word) && !SUFFIXES.contains(&suffix.as_str()) {
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
