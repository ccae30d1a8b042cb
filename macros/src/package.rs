//! WIT package names (`namespace:name@version`): parsing, the default
//! package of a trait, and the names of a package's items.

/// A WIT package name: `namespace:name@version`.
#[derive(Clone, Debug)]
pub(crate) struct PackageName {
    pub(crate) namespace: String,
    pub(crate) name: String,
    pub(crate) version: Option<String>,
}

impl PackageName {
    /// `namespace:name@version`
    pub(crate) fn id(&self) -> String {
        match &self.version {
            Some(v) => format!("{}:{}@{v}", self.namespace, self.name),
            None => format!("{}:{}", self.namespace, self.name),
        }
    }

    /// `namespace:name/item@version`, the name of an item of the package.
    pub(crate) fn item(&self, item: &str) -> String {
        match &self.version {
            Some(v) => format!("{}:{}/{item}@{v}", self.namespace, self.name),
            None => format!("{}:{}/{item}", self.namespace, self.name),
        }
    }

    /// Parses `namespace:name[@version]`.
    pub(crate) fn parse(s: &str) -> Option<PackageName> {
        let (base, version) = match s.split_once('@') {
            Some((b, v)) => (b, Some(v.to_string())),
            None => (s, None),
        };
        let (namespace, name) = base.split_once(':')?;
        let ok = |p: &str| {
            !p.is_empty()
                && p.split('-').all(|w| {
                    w.chars().next().is_some_and(|c| c.is_ascii_lowercase())
                        && w.chars()
                            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
                })
        };
        if !ok(namespace) || !ok(name) {
            return None;
        }
        Some(PackageName {
            namespace: namespace.to_string(),
            name: name.to_string(),
            version,
        })
    }

    /// The default package for an item called `item`:
    /// `<crate>:<item>@<version>`, from the crate being compiled
    /// (`CARGO_PKG_NAME` in kebab case, or `plugin` if that is not a valid
    /// WIT name, and `CARGO_PKG_VERSION`).
    pub(crate) fn derived(item: &str) -> PackageName {
        let krate = std::env::var("CARGO_PKG_NAME").unwrap_or_else(|_| "plugin".to_string());
        let namespace: String = heck::ToKebabCase::to_kebab_case(krate.as_str());
        let namespace = if PackageName::parse(&format!("{namespace}:x")).is_some() {
            namespace
        } else {
            "plugin".to_string()
        };
        let version = std::env::var("CARGO_PKG_VERSION")
            .ok()
            .filter(|v| !v.is_empty());
        PackageName {
            namespace,
            name: item.to_string(),
            version,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn package_names_are_checked() {
        assert!(PackageName::parse("acme:filters@1.0.0").is_some());
        assert!(PackageName::parse("acme:filters").is_some());
        assert!(PackageName::parse("Acme:filters").is_none());
        assert!(PackageName::parse("no-colon").is_none());
        let p = PackageName::parse("a:b@2.0.0").unwrap();
        assert_eq!(p.item("w"), "a:b/w@2.0.0");
    }
}
