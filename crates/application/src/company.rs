//! The issuing company's profile at Factus: read it, replace it, upload its logo.
//!
//! Reading is open to every user; changing it is for admins ([`crate::account`]). A logo is
//! checked here, before Factus is called: it must be a PNG, JPEG, GIF or WebP (by its content,
//! not by what the client declares) of at most [`LogoImage::MAX_BYTES`].

use std::fmt;
use std::sync::Arc;

use factus_domain::user::User;
use thiserror::Error;

use crate::account::{AccountError, require_admin};
use crate::factus::{FactusAccess, FactusAccountGateway, FactusFailure, FactusOperation};

/// A `{code, name}` pair of a Factus table (tribute, legal organization, responsibility).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CodeName {
    pub code: String,
    pub name: String,
}

/// Where the company is registered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CompanyMunicipality {
    /// DANE code, e.g. `11001`.
    pub code: String,
    pub name: String,
    pub department: Option<CodeName>,
}

/// The issuing company as Factus shows it (`GET /v1/company`, `docs/factus.md` §7.9). Every field
/// but the lists may be missing at Factus; text fields are read from strings or numbers.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Company {
    pub url_logo: Option<String>,
    pub nit: Option<String>,
    pub dv: Option<String>,
    pub company: Option<String>,
    pub trade_name: Option<String>,
    pub names: Option<String>,
    pub surnames: Option<String>,
    pub graphic_representation_name: Option<String>,
    pub registration_code: Option<String>,
    /// CIIU code, e.g. `6201`.
    pub economic_activity: Option<String>,
    pub phone: Option<String>,
    pub email: Option<String>,
    pub address: Option<String>,
    pub tribute: Option<CodeName>,
    pub legal_organization: Option<CodeName>,
    pub municipality: Option<CompanyMunicipality>,
    pub responsibilities: Vec<CodeName>,
    pub created_at: Option<String>,
    pub updated_at: Option<String>,
}

/// A new company profile, already checked by the edge. Optional fields left out are not sent, so
/// Factus keeps what it has for them.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct CompanyUpdate {
    /// `1` persona jurídica, `2` persona natural.
    pub legal_organization_code: String,
    /// Registered name of a company (persona jurídica).
    pub company: Option<String>,
    pub trade_name: Option<String>,
    /// Names and surnames of a natural person.
    pub names: Option<String>,
    pub surnames: Option<String>,
    /// Mercantile registration number.
    pub registration_code: Option<String>,
    /// CIIU code (four digits).
    pub economic_activity: String,
    pub phone: String,
    pub email: String,
    pub address: String,
    /// `01` IVA or `ZZ` no aplica.
    pub tribute_code: String,
    /// DANE code of the municipality.
    pub municipality_code: String,
    /// Fiscal responsibility codes (`O-13`, `R-99-PN`, …), at least one.
    pub responsibilities: Vec<String>,
}

/// The image formats Factus accepts as a logo.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImageFormat {
    Png,
    Jpeg,
    Gif,
    Webp,
}

impl ImageFormat {
    /// Every accepted format.
    pub const ALL: [Self; 4] = [Self::Png, Self::Jpeg, Self::Gif, Self::Webp];

    /// The media type sent to Factus.
    #[must_use]
    pub fn media_type(self) -> &'static str {
        match self {
            Self::Png => "image/png",
            Self::Jpeg => "image/jpeg",
            Self::Gif => "image/gif",
            Self::Webp => "image/webp",
        }
    }

    #[must_use]
    pub fn extension(self) -> &'static str {
        match self {
            Self::Png => "png",
            Self::Jpeg => "jpg",
            Self::Gif => "gif",
            Self::Webp => "webp",
        }
    }

    /// The format of a file, from its first bytes (its signature).
    #[must_use]
    pub fn sniff(bytes: &[u8]) -> Option<Self> {
        if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
            Some(Self::Png)
        } else if bytes.starts_with(b"\xff\xd8\xff") {
            Some(Self::Jpeg)
        } else if bytes.starts_with(b"GIF87a") || bytes.starts_with(b"GIF89a") {
            Some(Self::Gif)
        } else if bytes.len() >= 12 && bytes.starts_with(b"RIFF") && &bytes[8..12] == b"WEBP" {
            Some(Self::Webp)
        } else {
            None
        }
    }

    /// Whether a declared media type names this format (`image/jpg` is a common misspelling).
    fn is_named_by(self, media_type: &str) -> bool {
        let essence = media_type.split(';').next().unwrap_or_default().trim().to_ascii_lowercase();
        essence == self.media_type() || (self == Self::Jpeg && essence == "image/jpg")
    }
}

/// Why a logo was refused before Factus was called.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum LogoError {
    /// The file is empty.
    #[error("El archivo de imagen está vacío")]
    Empty,
    /// The file is larger than [`LogoImage::MAX_BYTES`].
    #[error("La imagen pesa {size} bytes; el máximo es {max} bytes (2 MB)")]
    TooLarge { size: usize, max: usize },
    /// The content is not a PNG, JPEG, GIF or WebP, or the declared media type is another one.
    #[error("La imagen debe ser PNG, JPEG, GIF o WebP")]
    UnsupportedType,
}

/// A logo ready to upload: an image of an accepted format and size.
#[derive(Clone, PartialEq, Eq)]
pub struct LogoImage {
    bytes: Vec<u8>,
    format: ImageFormat,
    file_name: String,
}

impl LogoImage {
    /// The largest logo accepted: 2048 KB, the limit the sandbox applies as Laravel's `max:2048`
    /// (Factus documents none; `docs/factus.md` §7.10).
    pub const MAX_BYTES: usize = 2048 * 1024;

    /// Checks an uploaded file. `declared_type` is the part's `Content-Type`; when it is given
    /// and is not the generic `application/octet-stream`, it must name the format the content
    /// has. `file_name` defaults to `logo.<ext>`.
    ///
    /// # Errors
    /// [`LogoError`] for an empty, too large or non-image file.
    pub fn parse(bytes: Vec<u8>, declared_type: Option<&str>, file_name: Option<&str>) -> Result<Self, LogoError> {
        if bytes.is_empty() {
            return Err(LogoError::Empty);
        }
        if bytes.len() > Self::MAX_BYTES {
            return Err(LogoError::TooLarge { size: bytes.len(), max: Self::MAX_BYTES });
        }
        let format = ImageFormat::sniff(&bytes).ok_or(LogoError::UnsupportedType)?;
        let generic = |declared: &str| {
            let essence = declared.split(';').next().unwrap_or_default().trim();
            essence.is_empty() || essence.eq_ignore_ascii_case("application/octet-stream")
        };
        if declared_type.is_some_and(|declared| !generic(declared) && !format.is_named_by(declared)) {
            return Err(LogoError::UnsupportedType);
        }
        // The name travels in a multipart header: keep it to safe characters.
        let file_name = file_name
            .map(|name| name.rsplit(['/', '\\']).next().unwrap_or_default())
            .filter(|name| {
                !name.is_empty()
                    && name.len() <= 100
                    && name.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
            })
            .map_or_else(|| format!("logo.{}", format.extension()), str::to_owned);
        Ok(Self { bytes, format, file_name })
    }

    #[must_use]
    pub fn bytes(&self) -> &[u8] {
        &self.bytes
    }

    #[must_use]
    pub fn format(&self) -> ImageFormat {
        self.format
    }

    #[must_use]
    pub fn file_name(&self) -> &str {
        &self.file_name
    }
}

impl fmt::Debug for LogoImage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LogoImage")
            .field("format", &self.format)
            .field("file_name", &self.file_name)
            .field("bytes", &self.bytes.len())
            .finish()
    }
}

/// The company use cases.
pub struct CompanyService {
    account: Arc<dyn FactusAccountGateway>,
}

impl CompanyService {
    pub fn new(account: Arc<dyn FactusAccountGateway>) -> Self {
        Self { account }
    }

    /// The company's profile at Factus (any user).
    ///
    /// # Errors
    /// [`AccountError::Factus`] of [`FactusOperation::GetCompany`].
    pub async fn get(&self, access: &FactusAccess) -> Result<Company, AccountError> {
        Ok(self.account.company(access).await.map_err(FactusFailure::of(FactusOperation::GetCompany))?)
    }

    /// Replaces the company's profile (admins only); answers the profile Factus now keeps.
    ///
    /// # Errors
    /// [`AccountError::NotAdmin`] without calling Factus; [`AccountError::Factus`] of
    /// [`FactusOperation::UpdateCompany`].
    pub async fn update(
        &self,
        actor: &User,
        access: &FactusAccess,
        update: &CompanyUpdate,
    ) -> Result<Company, AccountError> {
        require_admin(actor)?;
        let company = self
            .account
            .update_company(access, update)
            .await
            .map_err(FactusFailure::of(FactusOperation::UpdateCompany))?;
        tracing::info!(actor = %actor.username, "company profile updated at Factus");
        Ok(company)
    }

    /// Uploads the company's logo (admins only); answers its public URL.
    ///
    /// # Errors
    /// [`AccountError::NotAdmin`] without calling Factus; [`AccountError::Factus`] of
    /// [`FactusOperation::UpdateCompanyLogo`].
    pub async fn upload_logo(
        &self,
        actor: &User,
        access: &FactusAccess,
        logo: &LogoImage,
    ) -> Result<String, AccountError> {
        require_admin(actor)?;
        let url = self
            .account
            .upload_company_logo(access, logo)
            .await
            .map_err(FactusFailure::of(FactusOperation::UpdateCompanyLogo))?;
        tracing::info!(actor = %actor.username, bytes = logo.bytes().len(), "company logo uploaded to Factus");
        Ok(url)
    }
}

#[cfg(test)]
mod tests {
    use secrecy::SecretString;

    use super::*;
    use crate::account::test_users::{admin, user};
    use crate::factus::{FactusError, MockFactusAccountGateway};

    const PNG: &[u8] = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR";

    fn access() -> FactusAccess {
        FactusAccess::ClientToken(SecretString::from("token"))
    }

    fn update() -> CompanyUpdate {
        CompanyUpdate {
            legal_organization_code: "1".into(),
            company: Some("ACME S.A.S.".into()),
            economic_activity: "6201".into(),
            phone: "6010000000".into(),
            email: "info@acme.co".into(),
            address: "Calle 1".into(),
            tribute_code: "01".into(),
            municipality_code: "11001".into(),
            responsibilities: vec!["O-13".into()],
            ..CompanyUpdate::default()
        }
    }

    fn logo() -> LogoImage {
        LogoImage::parse(PNG.to_vec(), Some("image/png"), Some("acme.png")).expect("a PNG")
    }

    #[tokio::test]
    async fn an_admin_replaces_the_company_profile_at_factus() {
        let mut gateway = MockFactusAccountGateway::new();
        gateway
            .expect_update_company()
            .withf(|_, sent| sent.company.as_deref() == Some("ACME S.A.S."))
            .times(1)
            .returning(|_, _| Ok(Company { company: Some("ACME S.A.S.".into()), ..Company::default() }));

        let company = CompanyService::new(Arc::new(gateway)).update(&admin(), &access(), &update()).await.unwrap();

        assert_eq!(company.company.as_deref(), Some("ACME S.A.S."));
    }

    #[tokio::test]
    async fn a_user_who_is_not_an_admin_changes_nothing_and_factus_is_not_called() {
        let service = CompanyService::new(Arc::new(MockFactusAccountGateway::new()));

        let update = service.update(&user(), &access(), &update()).await.unwrap_err();
        let upload = service.upload_logo(&user(), &access(), &logo()).await.unwrap_err();

        assert!(matches!((update, upload), (AccountError::NotAdmin, AccountError::NotAdmin)));
    }

    #[tokio::test]
    async fn any_user_reads_the_company_and_factus_failures_name_the_operation() {
        let mut gateway = MockFactusAccountGateway::new();
        gateway.expect_company().times(1).returning(|_| Err(FactusError::Timeout));

        let error = CompanyService::new(Arc::new(gateway)).get(&access()).await.unwrap_err();

        assert!(
            matches!(&error, AccountError::Factus(failure) if failure.operation == FactusOperation::GetCompany),
            "{error:?}"
        );
        assert_eq!(error.to_string(), "Error al obtener la empresa: Factus no respondió a tiempo");
    }

    #[tokio::test]
    async fn an_admin_uploads_the_logo_and_gets_its_url() {
        let mut gateway = MockFactusAccountGateway::new();
        gateway
            .expect_upload_company_logo()
            .withf(|_, logo| logo.format() == ImageFormat::Png && logo.file_name() == "acme.png")
            .times(1)
            .returning(|_, _| Ok("https://factus.test/logo.png".into()));

        let url = CompanyService::new(Arc::new(gateway)).upload_logo(&admin(), &access(), &logo()).await.unwrap();

        assert_eq!(url, "https://factus.test/logo.png");
    }

    #[test]
    fn a_logo_is_recognised_by_its_content_whatever_its_name() {
        let jpeg = LogoImage::parse(b"\xff\xd8\xff\xe0rest".to_vec(), Some("image/jpg"), Some("../../etc/foto.png"))
            .expect("a JPEG");
        assert_eq!((jpeg.format(), jpeg.file_name()), (ImageFormat::Jpeg, "foto.png"));
        let gif =
            LogoImage::parse(b"GIF89a....".to_vec(), Some("application/octet-stream"), Some("a b.gif")).expect("a GIF");
        assert_eq!((gif.format(), gif.file_name()), (ImageFormat::Gif, "logo.gif"));
        let webp = LogoImage::parse(b"RIFF\x10\x00\x00\x00WEBPVP8 ".to_vec(), None, None).expect("a WebP");
        assert_eq!(webp.format(), ImageFormat::Webp);
    }

    #[test]
    fn a_logo_that_is_not_an_accepted_image_or_says_it_is_another_type_is_refused() {
        assert_eq!(LogoImage::parse(b"%PDF-1.7".to_vec(), None, None), Err(LogoError::UnsupportedType));
        assert_eq!(LogoImage::parse(PNG.to_vec(), Some("image/svg+xml"), None), Err(LogoError::UnsupportedType));
        assert_eq!(LogoImage::parse(PNG.to_vec(), Some("text/plain"), None), Err(LogoError::UnsupportedType));
        assert_eq!(LogoImage::parse(Vec::new(), Some("image/png"), None), Err(LogoError::Empty));
    }

    #[test]
    fn a_logo_of_exactly_two_megabytes_is_accepted_and_one_byte_more_is_refused() {
        let mut bytes = PNG.to_vec();
        bytes.resize(LogoImage::MAX_BYTES, 0);
        assert!(LogoImage::parse(bytes.clone(), Some("image/png"), None).is_ok());
        bytes.push(0);
        assert_eq!(
            LogoImage::parse(bytes, Some("image/png"), None),
            Err(LogoError::TooLarge { size: LogoImage::MAX_BYTES + 1, max: LogoImage::MAX_BYTES })
        );
    }
}
