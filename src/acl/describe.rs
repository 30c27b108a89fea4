//! How a [`User`] is shown: `ACL GETUSER`'s fields and `ACL LIST` / aclfile lines, as Redis
//! 7.0 writes them.

use super::catalogue::Catalogue;
use super::user::{hex, RuleError, User};
use super::{READ, WRITE};

impl User {
    /// The `flags` of `ACL GETUSER`.
    pub fn flags(&self) -> Vec<&'static str> {
        let mut f = vec![if self.enabled { "on" } else { "off" }];
        if self.nopass {
            f.push("nopass");
        }
        match self.sanitize_payload {
            Some(true) => f.push("sanitize-payload"),
            Some(false) => f.push("skip-sanitize-payload"),
            None => {}
        }
        f
    }

    /// Password hashes as lowercase hex.
    pub fn password_hexes(&self) -> Vec<String> {
        self.passwords.iter().map(hex).collect()
    }

    /// The key patterns as rules: `~*`, or `~a:* %R~b:*`.
    pub fn describe_keys(&self) -> String {
        if self.all_keys {
            return "~*".into();
        }
        let parts: Vec<String> = self
            .patterns
            .iter()
            .map(|p| {
                let prefix = match p.perm {
                    READ => "%R~",
                    WRITE => "%W~",
                    _ => "~",
                };
                format!("{prefix}{}", String::from_utf8_lossy(&p.pattern))
            })
            .collect();
        parts.join(" ")
    }

    /// The channel patterns as `ACL GETUSER` shows them.
    pub fn describe_channels(&self) -> String {
        if self.all_channels {
            return "&*".into();
        }
        let parts: Vec<String> = self
            .channels
            .iter()
            .map(|c| format!("&{}", String::from_utf8_lossy(c)))
            .collect();
        parts.join(" ")
    }

    /// The command rules as Redis 7.0 describes a bitmap: `+@all` or `-@all`, then the
    /// categories that best fit what is left, then single commands in table order.
    pub fn describe_commands(&self, catalogue: &Catalogue) -> String {
        let additive = !self.bit(self.future_bit());
        let mut rules = vec![if additive { "-@all" } else { "+@all" }.to_string()];
        let mut fake = User::new("", catalogue);
        fake.all(!additive);
        // What is still to be explained: categories applied are inverted here.
        let mut rest = self.clone();
        loop {
            let mut best: Option<(&str, u32)> = None;
            let (mut mindiff, mut maxsame) = (usize::MAX, 0);
            for &(name, bit) in &catalogue.categories {
                let (mut on, mut off) = (0, 0);
                for i in catalogue.in_category(bit) {
                    if rest.bit(i) {
                        on += 1;
                    } else {
                        off += 1;
                    }
                }
                let (diff, same) = if additive { (off, on) } else { (on, off) };
                if same > diff && (diff < mindiff || (diff == mindiff && same > maxsame)) {
                    best = Some((name, bit));
                    mindiff = diff;
                    maxsame = same;
                }
            }
            let Some((name, bit)) = best else { break };
            fake.set_category(bit, additive, catalogue);
            rest.set_category(bit, !additive, catalogue);
            rules.push(format!("{}@{name}", if additive { '+' } else { '-' }));
        }
        for (i, row) in catalogue.rows.iter().enumerate() {
            if row.parent.is_some() {
                continue;
            }
            for j in std::iter::once(i).chain(row.children.iter().copied()) {
                let want = self.bit(j);
                if fake.bit(j) != want {
                    rules.push(format!(
                        "{}{}",
                        if want { '+' } else { '-' },
                        catalogue.rows[j].name
                    ));
                    fake.change_perm(j, want, catalogue);
                }
            }
        }
        rules.join(" ")
    }

    /// The user as an `ACL LIST` / aclfile line: `user <name> <rules>`.
    pub fn describe(&self, catalogue: &Catalogue) -> String {
        let mut parts = vec!["user".to_string(), self.name.clone()];
        parts.extend(self.flags().into_iter().map(String::from));
        parts.extend(self.passwords.iter().map(|h| format!("#{}", hex(h))));
        let keys = self.describe_keys();
        if !keys.is_empty() {
            parts.push(keys);
        }
        if self.all_channels {
            parts.push("&*".into());
        } else {
            parts.push("resetchannels".into());
            let ch = self.describe_channels();
            if !ch.is_empty() {
                parts.push(ch);
            }
        }
        parts.push(self.describe_commands(catalogue));
        parts.join(" ")
    }
}

impl RuleError {
    pub fn reason(&self) -> &'static str {
        match self {
            RuleError::Syntax => "Syntax error",
            RuleError::UnknownCommand => "Unknown command or category name in ACL",
            RuleError::PatternAfterAllKeys => "Adding a pattern after the * pattern (or the 'allkeys' flag) is not valid and does not have any effect. Try 'resetkeys' to start with an empty list of patterns",
            RuleError::PatternAfterAllChannels => "Adding a pattern after the * pattern (or the 'allchannels' flag) is not valid and does not have any effect. Try 'resetchannels' to start with an empty list of channels",
            RuleError::NoSuchPassword => "The password you are trying to remove from the user does not exist",
            RuleError::BadHash => "The password hash must be exactly 64 characters and contain only lowercase hexadecimal characters",
            RuleError::SubcommandFirstArg => "Allowing first-arg of a subcommand is not supported",
        }
    }
}
