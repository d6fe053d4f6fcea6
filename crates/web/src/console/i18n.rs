//! The console's two languages: Spanish (the default, as the API's messages) and English.
//!
//! Every text is a [`T`] variant with both translations side by side, so a missing translation
//! does not compile. The language comes from the `console_lang` cookie (set by the switch in the
//! header), else from `Accept-Language`, else Spanish.

use axum::http::HeaderMap;

use super::session::cookie;

/// The cookie that remembers the language chosen with the switch.
pub const LANG_COOKIE: &str = "console_lang";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lang {
    Es,
    En,
}

impl Lang {
    #[must_use]
    pub fn code(self) -> &'static str {
        match self {
            Self::Es => "es",
            Self::En => "en",
        }
    }

    #[must_use]
    pub fn parse(code: &str) -> Option<Self> {
        match code.trim().to_ascii_lowercase().as_str() {
            "es" => Some(Self::Es),
            "en" => Some(Self::En),
            _ => None,
        }
    }

    /// The other language (what the switch offers).
    #[must_use]
    pub fn other(self) -> Self {
        match self {
            Self::Es => Self::En,
            Self::En => Self::Es,
        }
    }

    /// The cookie's choice, else the best of `Accept-Language` (by `q`, then order), else Spanish.
    #[must_use]
    pub fn of_request(headers: &HeaderMap) -> Self {
        if let Some(lang) = cookie(headers, LANG_COOKIE).and_then(Self::parse) {
            return lang;
        }
        let accept = headers.get(axum::http::header::ACCEPT_LANGUAGE).and_then(|value| value.to_str().ok());
        accept.and_then(Self::from_accept_language).unwrap_or(Self::Es)
    }

    fn from_accept_language(header: &str) -> Option<Self> {
        let mut best: Option<(f32, Self)> = None;
        for range in header.split(',') {
            let mut parts = range.split(';');
            let tag = parts.next().unwrap_or_default().trim();
            let primary = tag.split('-').next().unwrap_or_default();
            let Some(lang) = Self::parse(primary) else { continue };
            let quality = parts
                .find_map(|param| param.trim().strip_prefix("q=").and_then(|q| q.trim().parse::<f32>().ok()))
                .unwrap_or(1.0);
            if quality > 0.0 && best.is_none_or(|(best_quality, _)| quality > best_quality) {
                best = Some((quality, lang));
            }
        }
        best.map(|(_, lang)| lang)
    }
}

macro_rules! texts {
    ($($name:ident => $es:literal, $en:literal;)*) => {
        /// A text of the console.
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        pub enum T { $($name),* }

        impl Lang {
            /// `text` in this language.
            #[must_use]
            pub fn t(self, text: T) -> &'static str {
                match (self, text) {
                    $((Lang::Es, T::$name) => $es, (Lang::En, T::$name) => $en,)*
                }
            }
        }
    };
}

texts! {
    Console => "Consola", "Console";
    SkipToContent => "Saltar al contenido", "Skip to content";
    Overview => "Resumen", "Overview";
    Documents => "Documentos", "Documents";
    Users => "Usuarios", "Users";
    ApiKeys => "Claves de API", "API keys";
    Logout => "Cerrar sesión", "Log out";
    LoginTitle => "Iniciar sesión", "Log in";
    Username => "Usuario", "Username";
    Password => "Contraseña", "Password";
    LoginButton => "Entrar", "Log in";
    LoginFailed => "Usuario o contraseña incorrectos.", "Incorrect username or password.";
    LoginThrottled => "Demasiados intentos fallidos. Espere e intente de nuevo en", "Too many failed attempts. Wait and try again in";
    Seconds => "segundos", "seconds";
    SessionExpired => "Su sesión terminó. Inicie sesión de nuevo.", "Your session ended. Please log in again.";
    LoggedOut => "Sesión cerrada.", "You are logged out.";
    FormExpired => "El formulario caducó o no viene de esta consola. Recargue la página e inténtelo de nuevo.", "The form expired or did not come from this console. Reload the page and try again.";
    SwitchLanguage => "English", "Español";
    LoggedInAs => "Sesión de", "Logged in as";
    Admin => "administrador", "admin";
    RegularUser => "usuario", "user";
    NotFoundTitle => "No encontrado", "Not found";
    NotFoundText => "Lo que busca no existe o no es suyo.", "What you are looking for does not exist or is not yours.";
    ForbiddenTitle => "Sin permiso", "Forbidden";
    ForbiddenText => "Esta página es solo para administradores.", "This page is for admins only.";
    ErrorTitle => "Algo salió mal", "Something went wrong";
    BackToOverview => "Volver al resumen", "Back to the overview";
    // Overview
    Today => "Hoy", "Today";
    ThisMonth => "Este mes", "This month";
    Kind => "Tipo", "Kind";
    State => "Estado", "State";
    Total => "Total", "Total";
    TallyTruncated => "Hay más documentos de los que se cuentan aquí; las cifras cubren los más recientes.", "There are more documents than counted here; the figures cover the newest ones.";
    FactusConnection => "Conexión con Factus", "Connection to Factus";
    Circuit => "Circuito", "Circuit";
    CircuitClosed => "cerrado (las llamadas pasan)", "closed (calls go through)";
    CircuitOpen => "abierto (Factus falló; las llamadas se rechazan por ahora)", "open (Factus failed; calls are refused for now)";
    CircuitHalfOpen => "semiabierto (probando con una llamada)", "half-open (probing with one call)";
    ApiVersion => "Versión de la API de Factus", "Factus API version";
    ServerSession => "Sesión propia con Factus", "Own Factus session";
    FactusBudget => "Cupo de llamadas a Factus", "Factus call budget";
    BudgetOf => "de", "of";
    BudgetCallsInTheLast => "llamadas en los últimos", "calls in the last";
    BudgetThisInstanceOnly => "Solo las de esta instancia: la base de datos compartida no respondió.", "This instance's calls only: the shared database did not answer.";
    BudgetUnavailable => "No se pudo leer cuántas llamadas a Factus se han hecho.", "The count of calls to Factus could not be read.";
    Yes => "sí", "yes";
    No => "no", "no";
    NoServerSession => "El servidor no tiene sesión propia con Factus (FACTUS_USERNAME/FACTUS_PASSWORD): la consola no puede consultar Factus.", "The server has no Factus session of its own (FACTUS_USERNAME/FACTUS_PASSWORD): the console cannot ask Factus.";
    NumberingRanges => "Rangos de numeración", "Numbering ranges";
    RangesRunningOut => "Rangos de numeración con problemas", "Numbering ranges with problems";
    NoRangeRunningOut => "Ningún rango activo está vencido, agotado, por vencer o por agotarse.", "No active range is expired, used up, about to expire or running out.";
    RangeExpired => "vencido", "expired";
    RangeUsedUp => "agotado", "used up";
    RangeExpiresSoon => "vence pronto", "expires soon";
    RangeRunningOut => "por agotarse", "running out";
    Prefix => "Prefijo", "Prefix";
    Document => "Documento", "Document";
    Remaining => "Quedan", "Remaining";
    RangesUnavailable => "No se pudieron leer los rangos de Factus", "The ranges could not be read from Factus";
    NeedsAttention => "Requieren atención", "Need attention";
    UnknownDocuments => "documentos en estado desconocido", "documents in unknown state";
    PendingDocuments => "documentos en proceso", "documents being sent";
    RejectedDocuments => "documentos rechazados", "rejected documents";
    Queue => "Cola de envíos a Factus", "Queue of sends to Factus";
    QueueDepth => "En cola", "Queued";
    QueueOldest => "El más antiguo", "The oldest";
    QueueWaitingFor => "espera desde hace", "waiting for";
    QueueEmpty => "Ningún documento espera cupo en Factus.", "No document is waiting for room at Factus.";
    QueueExplained => "Cuando Factus no admite más solicitudes (80 por minuto), los documentos esperan aquí y se envían en orden de llegada.", "When Factus allows no more requests (80 a minute), documents wait here and are sent in arrival order.";
    QueueUnavailable => "No se pudo leer la cola.", "The queue could not be read.";
    // Documents
    Filters => "Filtros", "Filters";
    Any => "Cualquiera", "Any";
    Reference => "Referencia", "Reference";
    Number => "Número", "Number";
    User => "Usuario", "User";
    From => "Desde", "From";
    To => "Hasta", "To";
    Apply => "Filtrar", "Filter";
    Clear => "Limpiar", "Clear";
    Created => "Creado", "Created";
    NoDocuments => "Ningún documento coincide.", "No document matches.";
    NextPage => "Página siguiente", "Next page";
    Pagination => "Páginas", "Pages";
    FirstPage => "Primera página", "First page";
    BadFilter => "Filtro no válido", "Invalid filter";
    DateHint => "Fechas en hora de Colombia (AAAA-MM-DD).", "Dates in Colombian time (YYYY-MM-DD).";
    CustomerHint => "Cliente: su identificación exacta o parte de su nombre (de un documento soporte, el proveedor).", "Customer: their exact identification or a part of their name (a support document's provider).";
    // Kinds and states
    KindInvoice => "Factura", "Invoice";
    KindCreditNote => "Nota crédito", "Credit note";
    KindDebitNote => "Nota débito", "Debit note";
    KindSupportDocument => "Documento soporte", "Support document";
    StateQueued => "En cola", "Queued";
    StatePending => "En proceso", "Pending";
    StateIssued => "Emitido", "Issued";
    StateRejected => "Rechazado", "Rejected";
    StateUnknown => "Desconocido", "Unknown";
    // Document
    Ledger => "Registro", "Ledger";
    ReferencedInvoice => "Factura que corrige", "Invoice it corrects";
    EntryId => "Id del registro", "Entry id";
    ApiKey => "Clave de API", "API key";
    IdempotencyKey => "Idempotency-Key", "Idempotency-Key";
    Attempts => "Envíos a Factus", "Sends to Factus";
    Updated => "Actualizado", "Updated";
    Issued => "Emitido", "Issued";
    Cufe => "CUFE", "CUFE";
    Cude => "CUDE", "CUDE";
    Cuds => "CUDS", "CUDS";
    DianStatus => "Estado en DIAN", "DIAN status";
    DianValidated => "validado por la DIAN", "validated by DIAN";
    DianNotValidated => "aún no validado por la DIAN", "not yet validated by DIAN";
    QrLink => "Consultar en la DIAN", "Look it up at DIAN";
    FactusAnswer => "Respuesta de Factus", "Factus' answer";
    Why => "Por qué", "Why";
    DianRejected => "La DIAN rechazó el documento por estas reglas:", "DIAN rejected the document under these rules:";
    StillAtFactus => "El documento sigue guardado en Factus y bloquea los siguientes de su tipo hasta que se elimine.", "The document is still stored at Factus and blocks the next ones of its kind until it is deleted.";
    DeletedAtFactus => "El documento ya se eliminó en Factus.", "The document was deleted at Factus.";
    FactusRefused => "Factus rechazó el documento", "Factus refused the document";
    NotIssuedExplained => "Factus no tiene ninguna factura con esta referencia: no se emitió nada y la referencia puede usarse de nuevo.", "Factus has no bill of this reference: nothing was issued and the reference may be used again.";
    DeletedExplained => "La factura se eliminó en Factus antes de que la DIAN la validara; la referencia puede usarse de nuevo. Número eliminado:", "The bill was deleted at Factus before DIAN validated it; the reference may be used again. Deleted number:";
    QueuedExplained => "Factus no admitía más solicitudes (80 por minuto): el documento espera en la cola y se enviará en orden de llegada.", "Factus allowed no more requests (80 a minute): the document waits in the queue and will be sent in arrival order.";
    PendingExplained => "El documento se está enviando a Factus (o la instancia que lo enviaba se detuvo).", "The document is being sent to Factus (or the instance sending it stopped).";
    UnknownExplained => "El envío falló sin respuesta clara: Factus puede tener o no el documento. Se consulta en segundo plano; puede consultarlo ya.", "The send failed without a clear answer: Factus may or may not hold the document. It is looked up in the background; you can look it up now.";
    Customer => "Cliente", "Customer";
    Identification => "Identificación", "Identification";
    Email => "Correo electrónico", "E-mail";
    Items => "Ítems", "Items";
    Item => "Ítem", "Item";
    Quantity => "Cantidad", "Quantity";
    Price => "Precio", "Price";
    Subtotal => "Subtotal", "Subtotal";
    Taxes => "Impuestos", "Taxes";
    FactusDocument => "Documento en Factus", "Document at Factus";
    RawDocument => "Documento completo (JSON de Factus)", "Whole document (Factus' JSON)";
    FactusUnavailable => "No se pudo consultar Factus", "Factus could not be asked";
    Pdf => "PDF", "PDF";
    OpenPdf => "Abrir el PDF", "Open the PDF";
    DownloadXml => "Descargar el XML", "Download the XML";
    Events => "Eventos DIAN", "DIAN events";
    NoEvents => "Sin eventos.", "No events.";
    EventCode => "Código", "Code";
    EventName => "Evento", "Event";
    EventDate => "Fecha", "Date";
    SendEmail => "Enviar por correo", "Send by e-mail";
    SendEmailButton => "Enviar", "Send";
    EmailSent => "Factus envió el documento por correo.", "Factus sent the document by e-mail.";
    Actions => "Acciones", "Actions";
    LookUpNow => "Consultar en Factus ahora", "Look it up at Factus now";
    LookedUpIssued => "Factus tiene el documento: quedó emitido.", "Factus holds the document: it is now issued.";
    LookedUpRequeued => "Factus no tiene el documento: volvió a la cola y se enviará de nuevo.", "Factus does not hold the document: it is back in the queue and will be sent again.";
    LookedUpNotIssued => "Factus no tiene el documento: quedó como no emitido y la referencia está libre.", "Factus does not hold the document: it is now not issued and the reference is free.";
    LookedUpSuperseded => "El registro cambió mientras tanto; vea su estado actual.", "The entry changed meanwhile; see its current state.";
    LookedUpSettled => "El documento ya no está pendiente.", "The document is no longer pending.";
    LookedUpNotRecorded => "No se pudo guardar lo que dijo Factus; se reintentará en segundo plano.", "What Factus said could not be saved; it is retried in the background.";
    DeleteAtFactus => "Eliminar el documento rechazado en Factus", "Delete the rejected document at Factus";
    DeletedNow => "El documento rechazado se eliminó en Factus.", "The rejected document was deleted at Factus.";
    NotStuck => "El documento ya no está guardado en Factus.", "The document is no longer stored at Factus.";
    ConfirmAction => "Confirmo esta acción", "I confirm this action";
    ConfirmNeeded => "Marque la casilla de confirmación para continuar.", "Tick the confirmation box to go on.";
    ConfirmDelete => "¿Eliminar el documento en Factus? No se puede deshacer.", "Delete the document at Factus? This cannot be undone.";
    // Annulment
    AnnulAction => "Emitir una nota crédito de anulación total…", "Issue a credit note for the full annulment…";
    AnnulTitle => "Anular la factura", "Annul invoice";
    AnnulExplained => "Una factura validada por la DIAN no se borra ni se edita: se anula con una nota crédito que la referencia, con el concepto de corrección 2 de la DIAN, por todo su valor y con sus mismos ítems. La nota se emite en Factus y la valida la DIAN; no se puede deshacer.", "An invoice DIAN validated is neither deleted nor edited: it is annulled with a credit note that references it, under DIAN's correction concept 2, for its whole value and with its same items. The note is issued at Factus and validated by DIAN; it cannot be undone.";
    NoteReference => "Referencia de la nota", "The note's reference";
    CorrectionConcept => "Concepto de corrección", "Correction concept";
    AnnulmentConcept => "2 — Anulación de factura electrónica", "2 — Anulación de factura electrónica (annulment of the electronic invoice)";
    NoteItems => "Ítems de la nota (los de la factura)", "The note's items (the invoice's)";
    NoteTotal => "Total de la nota", "The note's total";
    ConfirmAnnul => "Confirmo que anulo esta factura por completo", "I confirm I annul this invoice in full";
    AnnulButton => "Emitir la nota crédito", "Issue the credit note";
    BackToInvoice => "Volver a la factura", "Back to the invoice";
    AnnulOnlyIssued => "Solo se puede anular una factura emitida.", "Only an issued invoice can be annulled.";
    AnnulNotPrepared => "No se pudo preparar la nota crédito", "The credit note could not be prepared";
    Annulled => "Nota crédito emitida: anula por completo la factura que corrige.", "Credit note issued: it annuls in full the invoice it corrects.";
    AnnulmentQueued => "La nota crédito de anulación espera en la cola y se enviará a Factus en orden de llegada.", "The annulment credit note waits in the queue and will be sent to Factus in arrival order.";
    // Users and keys
    Role => "Rol", "Role";
    Status => "Estado", "Status";
    Enabled => "activo", "enabled";
    Disabled => "desactivado", "disabled";
    Disable => "Desactivar", "Disable";
    Enable => "Activar", "Enable";
    ResetPassword => "Nueva contraseña", "New password";
    ResetPasswordButton => "Cambiar contraseña", "Reset password";
    CreateUser => "Crear usuario", "Create user";
    CreateButton => "Crear", "Create";
    UserCreated => "Usuario creado.", "User created.";
    UserUpdated => "Usuario actualizado.", "User updated.";
    PasswordReset => "Contraseña cambiada; las sesiones del usuario se cerraron.", "Password reset; the user's sessions were closed.";
    PasswordRule => "Al menos 8 caracteres.", "At least 8 characters.";
    Name => "Nombre", "Name";
    Expires => "Vence", "Expires";
    LastUsed => "Último uso", "Last used";
    Revoked => "Revocada", "Revoked";
    Active => "activa", "active";
    Expired => "vencida", "expired";
    Never => "nunca", "never";
    Revoke => "Revocar", "Revoke";
    KeyRevoked => "Clave revocada.", "Key revoked.";
    CreateKey => "Crear clave de API", "Create API key";
    KeyCreated => "Clave creada. Cópiela ahora: no se volverá a mostrar.", "Key created. Copy it now: it will not be shown again.";
    Copy => "Copiar", "Copy";
    ExpiresOptional => "Vence (opcional, AAAA-MM-DD)", "Expires (optional, YYYY-MM-DD)";
    NoKeys => "No hay claves.", "No keys.";
    InvalidInput => "Revise los datos", "Check the input";
    // Webhooks
    Webhooks => "Webhooks", "Webhooks";
    WebhooksOff => "No hay receptor configurado (WEBHOOK_URL): los eventos se guardan pero no se envían.", "No receiver is configured (WEBHOOK_URL): events are kept but not sent.";
    DeliveryPending => "por enviar", "pending";
    DeliveryDelivered => "entregado", "delivered";
    DeliveryFailed => "fallido", "failed";
    NoDeliveries => "No hay entregas.", "No deliveries.";
    Event => "Evento", "Event";
    LastAttempt => "Último intento", "Last attempt";
    Answer => "Respuesta", "Answer";
    Redeliver => "Reenviar", "Redeliver";
    DeliveryAttempts => "Intentos", "Attempts";
    Redelivered => "Entrega programada de nuevo.", "Delivery scheduled again.";
    NoCookieNoScript => "La consola necesita cookies; JavaScript es opcional.", "The console needs cookies; JavaScript is optional.";
}

/// The name of a document kind.
#[must_use]
pub fn kind_text(kind: factus_application::ledger::DocumentKind) -> T {
    use factus_application::ledger::DocumentKind;
    match kind {
        DocumentKind::Invoice => T::KindInvoice,
        DocumentKind::CreditNote => T::KindCreditNote,
        DocumentKind::DebitNote => T::KindDebitNote,
        DocumentKind::SupportDocument => T::KindSupportDocument,
    }
}

/// The name of a ledger state.
#[must_use]
pub fn state_text(state: factus_application::ledger::LedgerState) -> T {
    use factus_application::ledger::LedgerState;
    match state {
        LedgerState::Queued => T::StateQueued,
        LedgerState::Pending => T::StatePending,
        LedgerState::Issued => T::StateIssued,
        LedgerState::Rejected => T::StateRejected,
        LedgerState::Unknown => T::StateUnknown,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn accept(value: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(axum::http::header::ACCEPT_LANGUAGE, value.parse().unwrap());
        headers
    }

    #[test]
    fn accept_language_picks_the_preferred_of_spanish_and_english() {
        assert_eq!(Lang::of_request(&accept("en-US,en;q=0.9,es;q=0.8")), Lang::En);
        assert_eq!(Lang::of_request(&accept("es-CO,es;q=0.9,en;q=0.8")), Lang::Es);
        assert_eq!(Lang::of_request(&accept("fr-FR, en;q=0.5")), Lang::En);
        assert_eq!(Lang::of_request(&accept("de, es;q=0.2, en;q=0.7")), Lang::En);
    }

    #[test]
    fn without_a_usable_language_the_console_speaks_spanish() {
        assert_eq!(Lang::of_request(&HeaderMap::new()), Lang::Es);
        assert_eq!(Lang::of_request(&accept("fr, de;q=0.5")), Lang::Es);
        assert_eq!(Lang::of_request(&accept("en;q=0")), Lang::Es);
    }

    #[test]
    fn the_switch_cookie_wins_over_accept_language() {
        let mut headers = accept("en");
        headers.insert(axum::http::header::COOKIE, "console_lang=es; other=1".parse().unwrap());
        assert_eq!(Lang::of_request(&headers), Lang::Es);
    }
}
