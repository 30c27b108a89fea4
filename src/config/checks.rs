//! Settings each valid alone but not together: checked once every source is applied, before
//! anything starts.

use super::{ClusterMode, Config, ConfigError};

/// Why emulated cluster mode cannot start on a wildcard bind without an announce address.
pub const CLUSTER_NEEDS_ANNOUNCE_IP: &str = "cluster-mode emulated with bind 0.0.0.0 or :: needs \
     cluster-announce-ip: CLUSTER SLOTS, SHARDS and NODES tell clients which address to connect \
     to, and a wildcard address is not one they can reach";

/// Refuses a [`Config`] whose settings contradict each other.
///
/// - Emulated cluster mode announces an address that cluster-aware clients connect to for
///   every slot: with no `cluster-announce-ip` that is the bind address, which must then not be
///   `0.0.0.0` or `::`.
pub fn check(config: &Config) -> Result<(), ConfigError> {
    let scale = &config.scale;
    if scale.cluster_mode == ClusterMode::Emulated {
        let announced = scale.cluster_announce_ip.unwrap_or(config.bind);
        if announced.is_unspecified() {
            return Err(ConfigError::Conflict(CLUSTER_NEEDS_ANNOUNCE_IP));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Applies a start-up setting (CONFIG SET would refuse these: they are immutable).
    fn set(c: &mut Config, name: &str, value: &str) {
        super::super::find(name)
            .expect("a setting")
            .apply(c, value.as_bytes())
            .expect("a valid value");
    }

    fn emulated(bind: &str, announce: &str) -> Result<(), ConfigError> {
        let mut c = Config::default();
        set(&mut c, "cluster-mode", "emulated");
        set(&mut c, "bind", bind);
        set(&mut c, "cluster-announce-ip", announce);
        check(&c)
    }

    #[test]
    fn emulated_cluster_on_a_wildcard_bind_needs_an_announce_ip() {
        for bind in ["0.0.0.0", "::"] {
            let e = emulated(bind, "").unwrap_err();
            assert_eq!(e.to_string(), CLUSTER_NEEDS_ANNOUNCE_IP, "{bind}");
            assert!(emulated(bind, "10.0.0.5").is_ok());
            assert!(
                emulated(bind, "0.0.0.0").is_err(),
                "announcing {bind} itself"
            );
        }
        assert!(emulated("127.0.0.1", "").is_ok());
        assert!(emulated("10.1.2.3", "").is_ok());
    }

    #[test]
    fn standalone_needs_nothing() {
        let mut c = Config::default();
        set(&mut c, "bind", "0.0.0.0");
        assert!(check(&c).is_ok());
    }
}
