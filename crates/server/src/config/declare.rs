//! The two macros every setting is declared with, so that its field, type, default, variable,
//! TOML keys and help line cannot drift apart: they all come from one line of [`section!`].
//!
//! A section file declares its settings:
//!
//! ```text
//! section! {
//!     /// The HTTP server.
//!     pub struct Http in "http" () {
//!         /// listen address
//!         bind: String = "127.0.0.1:8080", env "ACCUEIL_BIND", sample "0.0.0.0:9000";
//!     }
//! }
//! ```
//!
//! and gets the struct with one public field per setting, a `Debug` that redacts what is
//! marked `redact secret` or `redact credentials`, the resolution (environment, then the file's
//! `bind` or `[http] bind`, then the default) and the [`Info`] the help, the README table and
//! the tests are made from. The default is either the text an operator would write (parsed like
//! the variable, and shown as is), `none` for an optional setting, or a `{ block }` that may use
//! the settings declared before it and the sections named in the parentheses; `none` and a block
//! need a `shown "..."` text for the help. `check path` names a function that validates (and may
//! normalise) the resolved value; it is called where the fields are local variables, so its
//! name must not be a field's. `sample` is a valid value other than the default, which the
//! tests set through each source.
//!
//! [`settings!`] lists the sections, in resolution order, and makes `Settings` of them.

/// One declared setting, as the help, the README and the tests see it.
#[derive(Debug)]
pub(crate) struct Info {
    /// The key in its section's table, and the field of the section struct (`bind`).
    pub field: &'static str,
    /// The environment variable (`ACCUEIL_BIND`).
    pub env: &'static str,
    /// What it means, in Markdown (backticks are dropped in the help).
    pub doc: &'static str,
    /// Its default, in Markdown.
    pub default: &'static str,
    /// A valid value other than the default, in the variable's syntax.
    #[cfg(test)]
    pub sample: &'static str,
    /// The sample as a TOML value.
    #[cfg(test)]
    pub toml_sample: fn(&str) -> toml::Value,
}

impl Info {
    /// The key outside any section (`bind`).
    #[cfg(test)]
    pub(crate) fn flat_key(&self) -> String {
        super::source::flat_key(self.env)
    }
}

/// One section: its TOML table, what it is about, its settings.
#[derive(Debug)]
pub(crate) struct Section {
    /// The TOML table (`http`).
    pub key: &'static str,
    /// The section's documentation.
    pub title: &'static str,
    /// Its settings, in declaration order.
    pub settings: &'static [Info],
}

/// Declares a section of settings; see the module documentation.
macro_rules! section {
    (
        $(#[doc = $sdoc:literal])+
        pub struct $name:ident in $key:literal ( $($dep:ident : $depty:ty),* ) {
            $(
                $(#[doc = $doc:literal])+
                $field:ident : $ty:ty = $default:tt $(shown $shown:literal)?,
                    env $env:literal, sample $sample:literal
                    $(, check $check:path)? $(, redact $redact:ident)?;
            )+
        }
        $(derived {
            $(
                $(#[doc = $ddoc:literal])+
                $dfield:ident : $dty:ty = $dfn:path;
            )+
        })?
    ) => {
        $(#[doc = $sdoc])+
        #[derive(Clone)]
        pub struct $name {
            $(
                $(#[doc = $doc])+
                pub $field: $ty,
            )+
            $($(
                $(#[doc = $ddoc])+
                pub $dfield: $dty,
            )+)?
        }

        impl $name {
            /// This section, for the help, the README and the tests.
            pub(crate) const SECTION: $crate::config::declare::Section =
                $crate::config::declare::Section {
                    key: $key,
                    title: concat!($($sdoc, "\n"),+),
                    settings: &[$(
                        $crate::config::declare::Info {
                            field: stringify!($field),
                            env: $env,
                            doc: concat!($($doc, "\n"),+),
                            default: $crate::config::declare::section!(@shown $default $($shown)?),
                            #[cfg(test)]
                            sample: $sample,
                            #[cfg(test)]
                            toml_sample:
                                <$ty as $crate::config::values::Value>::toml_sample,
                        },
                    )+],
                };

            /// Resolves every setting of the section, in declaration order.
            pub(crate) fn resolve(
                src: &mut $crate::config::source::Layers<'_>,
                $($dep: $depty),*
            ) -> Result<Self, $crate::config::ConfigError> {
                $(
                    let $field: $ty = match src.take::<$ty>($key, stringify!($field), $env)? {
                        Some(v) => v,
                        None => $crate::config::declare::section!(@default $ty, $env, $default)?,
                    };
                    $(
                        let $field: $ty = $check($field)
                            .map_err(|m| $crate::config::invalid($env, m))?;
                    )?
                )+
                $($(
                    let $dfield: $dty = $dfn(src)?;
                )+)?
                Ok(Self {
                    $($field,)+
                    $($($dfield,)+)?
                })
            }

            /// Each declared setting's variable and resolved value, unredacted.
            #[cfg(test)]
            pub(crate) fn values(&self) -> Vec<(&'static str, String)> {
                vec![$(($env, format!("{:?}", self.$field))),+]
            }
        }

        impl ::std::fmt::Debug for $name {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.debug_struct(stringify!($name))
                    $(.field(
                        stringify!($field),
                        $crate::config::declare::section!(@debug self.$field $(, $redact)?),
                    ))+
                    $($(.field(stringify!($dfield), &self.$dfield))+)?
                    .finish()
            }
        }
    };

    (@shown none) => { "none" };
    (@shown none $shown:literal) => { $shown };
    (@shown $lit:literal) => { concat!("`", $lit, "`") };
    (@shown $lit:literal $shown:literal) => { $shown };
    (@shown { $($e:tt)* } $shown:literal) => { $shown };

    (@default $ty:ty, $env:literal, none) => {
        Ok::<$ty, $crate::config::ConfigError>(None)
    };
    (@default $ty:ty, $env:literal, $lit:literal) => {
        <$ty as $crate::config::values::Value>::from_env($lit)
            .map_err(|m| $crate::config::invalid($env, format!("the default {:?}: {m}", $lit)))
    };
    (@default $ty:ty, $env:literal, { $($e:tt)* }) => {
        Ok::<$ty, $crate::config::ConfigError>({ $($e)* })
    };

    (@debug $v:expr) => { &$v };
    (@debug $v:expr, secret) => { &$crate::config::values::Shown::secret(&$v) };
    (@debug $v:expr, credentials) => {
        &$crate::config::values::Shown::without_credentials(&$v)
    };
}

/// Makes `Settings` of the sections, resolved in the order given; each section may take the
/// sections before it (`database: Database(&general)`).
macro_rules! settings {
    (
        $(
            $(#[doc = $doc:literal])+
            $field:ident : $ty:ident ( $($arg:expr),* )
        ),+ $(,)?
    ) => {
        /// Resolved settings, by section.
        #[derive(Clone)]
        pub struct Settings {
            $(
                $(#[doc = $doc])+
                pub $field: $ty,
            )+
            /// The declared variables given a value by the file or the environment.
            configured: Vec<&'static str>,
        }

        impl Settings {
            /// Every section, in resolution order.
            pub(crate) const SECTIONS: &'static [$crate::config::declare::Section] =
                &[$($ty::SECTION),+];

            fn resolve(
                src: &mut $crate::config::source::Layers<'_>,
            ) -> Result<Self, $crate::config::ConfigError> {
                $(let $field = $ty::resolve(src $(, $arg)*)?;)+
                Ok(Self {
                    $($field,)+
                    configured: Vec::new(),
                })
            }

            /// Each declared setting's variable and resolved value, unredacted.
            #[cfg(test)]
            pub(crate) fn values(&self) -> Vec<(&'static str, String)> {
                let mut all = Vec::new();
                $(all.extend(self.$field.values());)+
                all
            }
        }

        impl ::std::fmt::Debug for Settings {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.debug_struct("Settings")
                    $(.field(stringify!($field), &self.$field))+
                    .finish_non_exhaustive()
            }
        }
    };
}

pub(crate) use {section, settings};
