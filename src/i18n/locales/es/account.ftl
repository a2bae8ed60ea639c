# El centro de cuenta (src/http/account/, templates/account_*.html).
#
# Los mensajes que una plantilla usa con t("clave", nombre=valor) pueden
# contener HTML sencillo: su texto es de confianza y cada argumento se
# escapa. Los títulos y textos de una línea son texto plano.

## Barra superior

account-nav-label = Tu cuenta
account-nav-overview = Perfil
account-nav-security = Seguridad
account-nav-sessions = Sesiones
account-nav-connections = Conexiones
account-nav-activity = Actividad
account-nav-admin = Consola de administración
account-sign-out = Cerrar sesión
account-enrol-first = Tu rol exige un segundo factor: añade una aplicación de autenticación o una llave de acceso en Seguridad antes de poder cambiar otra cosa.

## Palabras comunes

account-save = Guardar
account-cancel = Cancelar
account-back = Volver
account-never = Nunca
account-col-name = Nombre
account-col-created = Creada
account-col-last-used = Último uso
account-col-actions = Acciones
account-col-device = Dispositivo
account-col-ip = Dirección IP
account-col-provider = Proveedor
account-col-account = Cuenta
account-col-linked = Vinculado
account-col-app = Aplicación
account-col-access = Acceso
account-col-granted = Permitida el
account-col-when = Cuándo
account-col-event = Evento

## Resultados (?done=)

account-done-profile = Se guardó tu perfil.
account-done-email = Se envió un enlace de confirmación a la nueva dirección. Tu dirección cambia cuando lo sigas.
account-done-password = Se guardó tu contraseña. Se cerraron tus demás sesiones.
account-done-reauth = Gracias, puedes continuar.
account-done-totp = La aplicación de autenticación está activada.
account-done-totp-removed = Se quitó la aplicación de autenticación.
account-done-passkey = Se añadió la llave de acceso.
account-done-passkey-renamed = Se cambió el nombre de la llave de acceso.
account-done-passkey-removed = Se quitó la llave de acceso.
account-done-session-ended = Se cerró la sesión.
account-done-sessions-ended = Se cerraron todas tus demás sesiones.
account-done-unlinked = Se desvinculó el proveedor.
account-done-linked = Se vinculó el proveedor.
account-done-revoked = Se revocó el acceso de la aplicación.

## Errores

account-error-reauth = Para este cambio, confirma primero que eres tú (abajo).
account-error-enrol-first = Añade primero un segundo factor.
account-error-wrong-password = Esa no es tu contraseña actual.
account-error-wrong-code = Ese código no es correcto. Prueba con el actual.
account-error-not-found = Esto ya no existe, o no es tuyo.
account-error-conflict = Esto no se puede hacer ahora.
account-invalid-name = Como máximo 256 caracteres, sin caracteres de control.
account-invalid-locale = Elige uno de los idiomas de la lista.
account-invalid-email = Escribe una dirección de correo válida, distinta de la actual.
account-invalid-code = Ese código no es correcto: escribe los seis dígitos que muestra ahora tu aplicación.
account-invalid-password = Escribe tu contraseña actual.
account-invalid-redirect = Este proveedor no se puede vincular aquí.

## Perfil (account_overview.html)

account-overview-title = Tu cuenta
account-profile-heading = Perfil
account-name-label = Nombre
account-locale-label = Idioma
account-locale-default = El del navegador
account-locale-help = El idioma de estas páginas y de los correos que te enviamos.
account-email-heading = Correo electrónico
account-email-confirmed = Confirmado
account-email-confirmed-at = Confirmado el { $at }
account-email-unconfirmed = Sin confirmar
account-new-email-label = Nueva dirección de correo
account-current-password-label = Contraseña actual
account-email-change-help = Enviamos un enlace a la nueva dirección; tu dirección cambia cuando lo sigas.
account-email-change-button = Cambiar el correo electrónico
account-password-heading = Contraseña
account-password-none = Tu cuenta aún no tiene contraseña: inicias sesión de otra forma. Puedes definir una.
account-new-password-label = Nueva contraseña
account-password-rules = De { $min } a { $max } caracteres; que no sea una contraseña común ni tu correo electrónico.
account-password-change-button = Cambiar la contraseña
account-password-set-button = Definir la contraseña

## Reautenticación

account-reauth-title = Confirma que eres tú
account-reauth-heading = Confirma que eres tú
account-reauth-text = Algunos cambios requieren un inicio de sesión reciente. Confirma que eres tú para hacerlos.
account-reauth-code-label = Código de tu aplicación de autenticación, o un código de recuperación
account-reauth-button = Confirmar
account-reauth-sign-in-again = Volver a iniciar sesión

## Seguridad (account_security.html)

account-security-title = Seguridad
account-totp-heading = Aplicación de autenticación
account-totp-on = Activada desde el { $since }.
account-totp-off = Sin configurar. Una aplicación de autenticación te da un código que escribes después de tu contraseña.
account-totp-start-button = Configurar una aplicación de autenticación
account-totp-remove-button = Quitar la aplicación de autenticación
account-passkeys-heading = Llaves de acceso
account-passkeys-none = Aún no tienes ninguna llave de acceso.
account-passkey-synced = sincronizada
account-passkey-rename-label = Nuevo nombre
account-passkey-rename-button = Cambiar nombre
account-passkey-remove-button = Quitar
account-passkey-add-button = Añadir una llave de acceso
account-codes-heading = Códigos de recuperación
account-codes-remaining = { $n ->
    [one] Te queda un código de recuperación sin usar.
   *[other] Te quedan { $n } códigos de recuperación sin usar.
}
account-codes-help = Un nuevo juego sustituye al anterior de inmediato.
account-codes-generate-button = Generar códigos de recuperación
account-codes-regenerate-button = Generar un nuevo juego
account-codes-need-factor = Los códigos de recuperación acompañan a un segundo factor: configura primero una aplicación de autenticación o añade una llave de acceso.

## Aplicación de autenticación (account_totp.html)

account-totp-title = Configurar una aplicación de autenticación
account-totp-step-scan = Escanea este código QR con tu aplicación de autenticación, o escribe en ella la clave de abajo.
account-totp-step-code = Escribe el código de seis dígitos que muestra la aplicación.
account-totp-qr-label = Código QR de tu clave de autenticación
account-totp-code-label = Código de la aplicación
account-totp-confirm-button = Activar
account-totp-remove-title = ¿Quitar la aplicación de autenticación?
account-totp-remove-text = Ya no se te pedirán sus códigos. Las sesiones confirmadas con ella se cierran.

## Códigos de recuperación (account_codes.html)

account-codes-title = Tus códigos de recuperación
account-codes-once = Guarda estos códigos en un lugar seguro: cada uno sirve una vez si pierdes tu segundo factor. Solo se muestran ahora.
account-codes-saved = Ya los guardé

## Llaves de acceso (account_passkey.html)

account-passkey-title = Añadir una llave de acceso
account-passkey-intro = Una llave de acceso te permite iniciar sesión con el bloqueo de pantalla de este dispositivo o una llave de seguridad, sin contraseña.
account-passkey-name-label = Nombre (opcional)
account-passkey-name-placeholder = p. ej., Portátil del trabajo
account-passkey-create-button = Crear la llave de acceso
account-passkey-needs-script = Añadir una llave de acceso requiere JavaScript.
account-passkey-unsupported = Este navegador no puede crear llaves de acceso aquí.
account-passkey-cancelled = No se creó ninguna llave de acceso.
account-passkey-checking = Guardando…
account-passkey-failed = No se creó la llave de acceso. Inténtalo de nuevo.
account-passkey-remove-title = ¿Quitar esta llave de acceso?
account-passkey-remove-text = La llave de acceso «{ $name }» ya no iniciará tu sesión. Las sesiones confirmadas con ella se cierran.

## Sesiones (account_sessions.html)

account-sessions-title = Sesiones y dispositivos
account-sessions-intro = Dónde está abierta tu cuenta. Cierra cualquier sesión que no reconozcas.
account-sessions-this-browser = este navegador
account-sessions-unknown-device = Dispositivo desconocido
account-sessions-sign-out-here = Cerrar sesión aquí
account-session-end-button = Cerrar
account-session-end-title = ¿Cerrar esta sesión?
account-session-end-text = Se cerrará la sesión en «{ $device }».
account-session-end-current-text = Es la sesión de este navegador («{ $device }»): se cerrará tu sesión aquí.
account-sessions-end-others-button = Cerrar todas las demás sesiones
account-sessions-end-others-title = ¿Cerrar todas las demás sesiones?
account-sessions-end-others-text = Se cerrarán todas las sesiones excepto la de este navegador.

## Conexiones (account_connections.html, account_link*.html)

account-connections-title = Conexiones
account-providers-heading = Proveedores de inicio de sesión
account-providers-none = No hay ningún proveedor vinculado a tu cuenta.
account-unlink-button = Desvincular
account-unlink-title = ¿Desvincular este proveedor?
account-unlink-text = Ya no iniciarás sesión con { $provider }.
account-unlink-last-way = Este proveedor es tu última forma de iniciar sesión: define primero una contraseña o añade una llave de acceso.
account-link-button = Vincular { $provider }
account-link-title = Vincular un proveedor
account-link-text = Iniciarás sesión en { $provider } y luego volverás aquí.
account-link-continue = Continuar a { $provider }
account-linked-checking = Vinculando…
account-linked-refused = No se vinculó el proveedor.
account-linked-nothing = Aquí no hay nada que vincular.
account-linked-needs-script = Terminar la vinculación requiere JavaScript.
account-apps-heading = Aplicaciones
account-apps-none = No has permitido a ninguna aplicación usar tu cuenta.
account-revoke-button = Revocar
account-revoke-title = ¿Revocar el acceso de esta aplicación?
account-revoke-text = { $app } ya no tendrá acceso a tu cuenta, y sus sesiones se cierran.

## Actividad (account_activity.html)

account-activity-title = Actividad de seguridad
account-activity-intro = Los eventos recientes de tu cuenta, del más reciente al más antiguo.
account-activity-none = Nada por ahora.
account-activity-by-admin = por un administrador
account-activity-pages = Páginas
account-activity-newest = Más recientes
account-activity-older = Eventos anteriores

## Eventos del registro de auditoría, uno por tipo

account-event-user-registered = Cuenta creada
account-event-user-confirmed = Correo electrónico confirmado
account-event-user-updated = Cuenta modificada
account-event-user-disabled = Cuenta desactivada
account-event-login-succeeded = Inicio de sesión con contraseña
account-event-login-failed = Intento de inicio de sesión fallido
account-event-login-locked = Inicio de sesión bloqueado tras intentos fallidos
account-event-login-passkey = Inicio de sesión con una llave de acceso
account-event-login-email-code = Inicio de sesión con un código por correo
account-event-login-provider = Inicio de sesión con un proveedor
account-event-logout = Sesión cerrada
account-event-refresh-reused = Se presentó de nuevo un token de sesión ya usado: sesión cerrada
account-event-session-ended = Sesión cerrada
account-event-sessions-ended-all = Todas las sesiones cerradas
account-event-password-changed = Contraseña cambiada
account-event-password-reset-requested = Restablecimiento de contraseña solicitado
account-event-password-reset = Contraseña restablecida
account-event-email-change-requested = Cambio de correo solicitado
account-event-email-changed = Correo electrónico cambiado
account-event-mfa-challenged = Segundo factor solicitado
account-event-mfa-succeeded = Segundo factor aceptado
account-event-mfa-failed = Segundo factor incorrecto
account-event-totp-enabled = Aplicación de autenticación activada
account-event-totp-disabled = Aplicación de autenticación quitada
account-event-recovery-codes-generated = Nuevos códigos de recuperación generados
account-event-recovery-code-used = Código de recuperación usado
account-event-passkey-added = Llave de acceso añadida
account-event-passkey-removed = Llave de acceso quitada
account-event-factors-reset = Segundos factores restablecidos por un administrador
account-event-reauthenticated = Identidad confirmada de nuevo
account-event-identity-linked = Proveedor vinculado
account-event-identity-unlinked = Proveedor desvinculado
account-event-oauth-consent-granted = Aplicación permitida
account-event-oauth-consent-revoked = Acceso de una aplicación revocado
account-event-oauth-authorized = Inicio de sesión en una aplicación
account-event-oauth-token-issued = Tokens de aplicación emitidos
