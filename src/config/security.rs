//! The security settings: ACL (`aclfile`, `acllog-max-len`, `llm-key-namespace`) and TLS
//! (`tls-port`, `tls-cert-file`, ...), with Redis's names. Their rows are part of
//! [`super::SETTINGS`]; the values live in [`AclSettings`] and [`TlsSettings`] on the config.

use super::setting::Setting;
use super::values::{self, Password, Reason};
use std::fmt;
use std::path::PathBuf;

/// The config file's `user` lines: words after `user`. `Debug` hides them (they hold passwords).
#[derive(Clone, Default, PartialEq, Eq)]
pub struct UserLines(pub Vec<Vec<Vec<u8>>>);

impl fmt::Debug for UserLines {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "UserLines({} users)", self.0.len())
    }
}

/// ACL settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AclSettings {
    pub aclfile: Option<PathBuf>,
    /// `user` lines of the config file (Redis refuses them together with `aclfile`).
    pub users: UserLines,
    pub log_max_len: usize,
    /// `llm-key-namespace user`: server-built keys take the user's name as namespace.
    pub key_namespace_user: bool,
}

impl Default for AclSettings {
    fn default() -> Self {
        AclSettings {
            aclfile: None,
            users: UserLines::default(),
            log_max_len: 128,
            key_namespace_user: false,
        }
    }
}

/// `tls-auth-clients`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TlsAuth {
    /// Client certificates are required (Redis's default).
    Yes,
    No,
    /// Verified when sent, not required.
    Optional,
}

/// TLS settings; TLS is on when `port` is not 0.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlsSettings {
    pub port: u16,
    pub cert_file: Option<PathBuf>,
    pub key_file: Option<PathBuf>,
    pub key_file_pass: Option<Password>,
    pub ca_cert_file: Option<PathBuf>,
    pub ca_cert_dir: Option<PathBuf>,
    pub auth_clients: TlsAuth,
    /// TLS 1.2 and TLS 1.3 allowed.
    pub protocols: (bool, bool),
    /// TLS 1.3 suite names (`TLS_AES_256_GCM_SHA384`); empty = rustls's defaults.
    pub ciphersuites: Vec<String>,
}

impl Default for TlsSettings {
    fn default() -> Self {
        TlsSettings {
            port: 0,
            cert_file: None,
            key_file: None,
            key_file_pass: None,
            ca_cert_file: None,
            ca_cert_dir: None,
            auth_clients: TlsAuth::Yes,
            protocols: (true, true),
            ciphersuites: Vec::new(),
        }
    }
}

/// The TLS 1.3 suites rustls offers, by their IANA / OpenSSL names.
pub const TLS13_SUITES: &[&str] = &[
    "TLS_AES_256_GCM_SHA384",
    "TLS_AES_128_GCM_SHA256",
    "TLS_CHACHA20_POLY1305_SHA256",
];

fn opt_path(v: &[u8]) -> Option<PathBuf> {
    (!v.is_empty()).then(|| values::path(v))
}

fn show_opt_path(p: &Option<PathBuf>) -> Vec<u8> {
    p.as_deref().map(values::show_path).unwrap_or_default()
}

fn protocols(v: &[u8]) -> Result<(bool, bool), Reason> {
    let text =
        values::utf8(v).ok_or_else(|| Reason::from("argument must be TLSv1.2 and/or TLSv1.3"))?;
    if text.trim().is_empty() {
        return Ok((true, true));
    }
    let mut p = (false, false);
    for word in text.split_ascii_whitespace() {
        match word.to_ascii_lowercase().as_str() {
            "tlsv1.2" => p.0 = true,
            "tlsv1.3" => p.1 = true,
            "tlsv1" | "tlsv1.1" => {
                return Err("TLSv1 and TLSv1.1 are not supported (rustls has neither)".into())
            }
            _ => return Err("argument must be TLSv1.2 and/or TLSv1.3".into()),
        }
    }
    Ok(p)
}

fn show_protocols(p: (bool, bool)) -> Vec<u8> {
    match p {
        (true, true) => "TLSv1.2 TLSv1.3",
        (true, false) => "TLSv1.2",
        _ => "TLSv1.3",
    }
    .into()
}

fn suites(v: &[u8]) -> Result<Vec<String>, Reason> {
    let text =
        values::utf8(v).ok_or_else(|| Reason::from("argument must be TLS 1.3 suite names"))?;
    text.split(':')
        .filter(|s| !s.is_empty())
        .map(|s| {
            TLS13_SUITES
                .iter()
                .find(|n| n.eq_ignore_ascii_case(s))
                .map(|n| n.to_string())
                .ok_or_else(|| {
                    format!(
                        "unknown TLS 1.3 ciphersuite '{s}' (known: {})",
                        TLS13_SUITES.join(", ")
                    )
                })
        })
        .collect()
}

pub(super) const ACLFILE: Setting = Setting {
    name: "aclfile",
    flag: true,
    env: "LLMCACHED_ACLFILE",
    value_name: "PATH",
    default: "",
    help: "File of ACL users, one user line each as in Redis (ACL LOAD and ACL SAVE use it); cannot be combined with user lines in the config file.",
    mutable: false,
    apply: |c, v| {
        c.acl.aclfile = opt_path(v);
        Ok(())
    },
    show: |c| show_opt_path(&c.acl.aclfile),
};

pub(super) const ACLLOG_MAX_LEN: Setting = Setting {
    name: "acllog-max-len",
    flag: true,
    env: "LLMCACHED_ACLLOG_MAX_LEN",
    value_name: "N",
    default: "128",
    help: "Most entries ACL LOG keeps.",
    mutable: true,
    apply: |c, v| {
        c.acl.log_max_len = values::int(v, 0, i64::MAX.into())?;
        Ok(())
    },
    show: |c| values::show(c.acl.log_max_len),
};

pub(super) const LLM_KEY_NAMESPACE: Setting = Setting {
    name: "llm-key-namespace",
    flag: true,
    env: "LLMCACHED_LLM_KEY_NAMESPACE",
    value_name: "none|user",
    default: "none",
    help: "With user, LLMKEY and LLMLOOKUP without NAMESPACE key a request in the authenticated user's namespace (llm:ns:<user>:v1:...); the default user keys globally.",
    mutable: true,
    apply: |c, v| {
        c.acl.key_namespace_user = values::one_of(v, &[("none", false), ("user", true)], "none, user")?;
        Ok(())
    },
    show: |c| if c.acl.key_namespace_user { "user" } else { "none" }.into(),
};

pub(super) const TLS_PORT: Setting = Setting {
    name: "tls-port",
    flag: true,
    env: "LLMCACHED_TLS_PORT",
    value_name: "PORT",
    default: "0",
    help:
        "TLS port to listen on besides port (0 = no TLS; port 0 with a tls-port serves TLS only).",
    mutable: false,
    apply: |c, v| {
        c.tls.port = values::int(v, 0, 65535)?;
        Ok(())
    },
    show: |c| values::show(c.tls.port),
};

macro_rules! tls_path {
    ($const:ident, $name:literal, $env:literal, $field:ident, $help:literal) => {
        pub(super) const $const: Setting = Setting {
            name: $name,
            flag: true,
            env: $env,
            value_name: "PATH",
            default: "",
            help: $help,
            mutable: true,
            apply: |c, v| {
                c.tls.$field = opt_path(v);
                Ok(())
            },
            show: |c| show_opt_path(&c.tls.$field),
        };
    };
}

tls_path!(
    TLS_CERT_FILE,
    "tls-cert-file",
    "LLMCACHED_TLS_CERT_FILE",
    cert_file,
    "PEM certificate chain of the TLS port; reloaded on SIGHUP and CONFIG SET."
);
tls_path!(
    TLS_KEY_FILE,
    "tls-key-file",
    "LLMCACHED_TLS_KEY_FILE",
    key_file,
    "PEM private key of tls-cert-file (PKCS#8, PKCS#1 or SEC1, unencrypted)."
);
tls_path!(
    TLS_CA_CERT_FILE,
    "tls-ca-cert-file",
    "LLMCACHED_TLS_CA_CERT_FILE",
    ca_cert_file,
    "PEM CA certificates that client certificates must chain to."
);
tls_path!(TLS_CA_CERT_DIR, "tls-ca-cert-dir", "LLMCACHED_TLS_CA_CERT_DIR", ca_cert_dir, "Directory of PEM CA certificates (every file in it is read), besides or instead of tls-ca-cert-file.");

pub(super) const TLS_KEY_FILE_PASS: Setting = Setting {
    name: "tls-key-file-pass",
    flag: true,
    env: "LLMCACHED_TLS_KEY_FILE_PASS",
    value_name: "PASSWORD",
    default: "",
    help: "Password of an encrypted tls-key-file: not supported (rustls reads unencrypted keys only); a start with it set is refused.",
    mutable: true,
    apply: |c, v| {
        c.tls.key_file_pass = (!v.is_empty()).then(|| Password::new(v));
        Ok(())
    },
    show: |c| c.tls.key_file_pass.as_ref().map(|p| p.as_bytes().to_vec()).unwrap_or_default(),
};

pub(super) const TLS_AUTH_CLIENTS: Setting = Setting {
    name: "tls-auth-clients",
    flag: true,
    env: "LLMCACHED_TLS_AUTH_CLIENTS",
    value_name: "yes|no|optional",
    default: "yes",
    help: "Client certificates on the TLS port: yes (required, as Redis), optional (checked when sent) or no.",
    mutable: true,
    apply: |c, v| {
        c.tls.auth_clients = values::one_of(
            v,
            &[("yes", TlsAuth::Yes), ("no", TlsAuth::No), ("optional", TlsAuth::Optional)],
            "no, yes, optional",
        )?;
        Ok(())
    },
    show: |c| match c.tls.auth_clients {
        TlsAuth::Yes => "yes",
        TlsAuth::No => "no",
        TlsAuth::Optional => "optional",
    }
    .into(),
};

pub(super) const TLS_PROTOCOLS: Setting = Setting {
    name: "tls-protocols",
    flag: true,
    env: "LLMCACHED_TLS_PROTOCOLS",
    value_name: "PROTOCOLS",
    default: "TLSv1.2 TLSv1.3",
    help: "TLS versions allowed: TLSv1.2 and/or TLSv1.3, separated by spaces.",
    mutable: true,
    apply: |c, v| {
        c.tls.protocols = protocols(v)?;
        Ok(())
    },
    show: |c| show_protocols(c.tls.protocols),
};

pub(super) const TLS_CIPHERSUITES: Setting = Setting {
    name: "tls-ciphersuites",
    flag: true,
    env: "LLMCACHED_TLS_CIPHERSUITES",
    value_name: "SUITES",
    default: "",
    help: "TLS 1.3 suites allowed, separated by colons (TLS_AES_256_GCM_SHA384:TLS_AES_128_GCM_SHA256:TLS_CHACHA20_POLY1305_SHA256); empty = all of them.",
    mutable: true,
    apply: |c, v| {
        c.tls.ciphersuites = suites(v)?;
        Ok(())
    },
    show: |c| c.tls.ciphersuites.join(":").into_bytes(),
};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tls_values_are_checked() {
        assert_eq!(protocols(b"tlsv1.3").unwrap(), (false, true));
        assert!(protocols(b"TLSv1.1").unwrap_err().contains("not supported"));
        assert_eq!(
            suites(b"tls_aes_128_gcm_sha256:").unwrap(),
            ["TLS_AES_128_GCM_SHA256"]
        );
        assert!(suites(b"ECDHE-RSA-AES128-GCM-SHA256").is_err());
    }
}
