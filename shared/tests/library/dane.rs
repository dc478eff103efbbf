//! TLSA records against served chains, as SMTP senders match them (RFC 7672
//! §3.1): DANE-EE 3 1 1, 3 0 1, 3 1 2, 3 0 0 against the leaf; DANE-TA 2 1 1
//! against the issuer the server sends; a rollover pair; PKIX usages refused.

use stsguard::dane::{match_chain, parse_tlsa, record_for, ChainMatch};
use stsguard_test_support::servers::Pki;

fn matched(record: &str, chain: &[Vec<u8>]) -> ChainMatch {
    match_chain(&parse_tlsa(record).unwrap(), chain)
}

#[test]
fn dane_ee_matches_the_leaf_by_key_or_certificate_with_any_matching_type() {
    let pki = Pki::new();
    let (leaf, _) = pki.leaf("mx1.example.com");
    let chain = vec![leaf.to_vec(), pki.ca_der().to_vec()];
    for (s, m) in [(1, 1), (0, 1), (1, 2), (0, 0), (1, 0)] {
        let rec = record_for(3, s, m, &leaf).unwrap();
        assert_eq!(matched(&rec, &chain), ChainMatch::EndEntity, "{rec}");
    }
    // Another key (the next one of a rollover) does not match; the pair does.
    let (next, _) = pki.leaf("mx1.example.com");
    let next_rec = record_for(3, 1, 1, &next).unwrap();
    assert_eq!(matched(&next_rec, &chain), ChainMatch::None);
    let current = record_for(3, 1, 1, &leaf).unwrap();
    let pair = [current, next_rec];
    assert!(pair.iter().any(|r| matched(r, &chain) == ChainMatch::EndEntity));
    // The key of the CA is not the server's key.
    let ca_as_ee = record_for(3, 1, 1, &pki.ca_der()).unwrap();
    assert_eq!(matched(&ca_as_ee, &chain), ChainMatch::None);
}

#[test]
fn dane_ta_matches_an_issuer_the_server_sends_and_not_the_leaf() {
    let pki = Pki::new();
    let (leaf, _) = pki.leaf("mx1.example.com");
    let ta = record_for(2, 1, 1, &pki.ca_der()).unwrap();
    let full = vec![leaf.to_vec(), pki.ca_der().to_vec()];
    assert_eq!(matched(&ta, &full), ChainMatch::TrustAnchor(1));
    // A server that does not send its CA cannot be matched by a 2 1 1 record.
    assert_eq!(matched(&ta, &[leaf.to_vec()]), ChainMatch::None);
    // DANE-TA with the leaf's own key is not a trust anchor.
    let leaf_as_ta = record_for(2, 1, 1, &leaf).unwrap();
    assert_eq!(matched(&leaf_as_ta, &full), ChainMatch::None);
    // Another CA's key does not match.
    let other = Pki::new();
    let other_ta = record_for(2, 1, 1, &other.ca_der()).unwrap();
    assert_eq!(matched(&other_ta, &full), ChainMatch::None);
}

#[test]
fn pkix_usages_are_unusable_for_smtp_even_when_they_would_match() {
    let pki = Pki::new();
    let (leaf, _) = pki.leaf("mx1.example.com");
    let chain = vec![leaf.to_vec(), pki.ca_der().to_vec()];
    let pkix_ee = record_for(1, 1, 1, &leaf).unwrap();
    assert_eq!(matched(&pkix_ee, &chain), ChainMatch::Unusable);
    let pkix_ta = record_for(0, 1, 1, &pki.ca_der()).unwrap();
    assert_eq!(matched(&pkix_ta, &chain), ChainMatch::Unusable);
    // An empty chain matches nothing.
    let ee = record_for(3, 1, 1, &leaf).unwrap();
    assert_eq!(matched(&ee, &Vec::<Vec<u8>>::new()), ChainMatch::None);
}
