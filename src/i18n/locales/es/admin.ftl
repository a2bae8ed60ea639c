# La consola de administración, /admin (src/http/console/, plantillas admin_*.html).
#
# Los mensajes que una plantilla usa con t("clave", nombre=valor) pueden
# llevar HTML sencillo: su texto es de confianza y cada argumento se
# escapa. Los títulos y mensajes hechos en Rust (lang.text) son texto plano.

## Marco y palabras comunes

admin-nav-label = Consola de administración
admin-nav-users = Usuarios
admin-nav-audit = Registro de auditoría
admin-nav-keys = Claves de API
admin-nav-clients = Clientes OAuth
admin-nav-providers = Proveedores
admin-nav-mail = Cola de correo
admin-nav-settings = Configuración
admin-nav-sign-out = Cerrar sesión
admin-cancel = Cancelar
admin-save = Guardar cambios
admin-done = Hecho
admin-next-page = Página siguiente →
admin-secret-once = Es la única vez que se muestra: toktok solo guarda un hash. Cópiela ahora.
admin-error-form = Algunos campos necesitan corrección: vea los mensajes junto a ellos.
admin-error-field = No aceptado: { $reason }
admin-error-json = Esto no es JSON válido: { $reason }

## Quién puede entrar (admin_denied.html)

admin-denied-title = No permitido
admin-denied-text = La consola de administración es para administradores. Su cuenta no tiene el rol admin.
admin-denied-mfa-text = La consola de administración requiere un segundo factor. Configure una aplicación de autenticación o una llave de acceso en su cuenta y vuelva a iniciar sesión con ella.
admin-denied-mfa-link = Ir a mi cuenta

## Encabezados de columna

admin-col-id = Id
admin-col-email = Correo
admin-col-name = Nombre
admin-col-role = Rol
admin-col-status = Estado
admin-col-created = Creado
admin-col-last-login = Último inicio de sesión
admin-col-last-used = Último uso
admin-col-device = Dispositivo
admin-col-ip = Dirección IP
admin-col-provider = Proveedor
admin-col-subject = Cuenta en el proveedor
admin-col-when = Cuándo
admin-col-kind = Tipo
admin-col-user = Usuario
admin-col-actor = Por
admin-col-detail = Detalle
admin-status-active = Activa
admin-status-disabled = Desactivada
admin-status-unconfirmed = Correo sin confirmar

## Usuarios (admin_users.html, admin_user.html)

admin-users-title = Usuarios
admin-users-search-label = Correo electrónico o id de usuario
admin-users-search-button = Buscar
admin-users-show-all = Ver todos los usuarios
admin-users-caption = Primero los más antiguos.
admin-users-none = Ningún usuario coincide.
admin-users-bad-cursor = La dirección de esta página ya no es válida: vuelva a empezar desde la primera página.
admin-user-title = Usuario { $email }
admin-back-to-users = ← Todos los usuarios
admin-user-edit = Perfil y rol
admin-user-metadata = Metadatos (JSON, el usuario puede cambiarlos)
admin-user-app-metadata = Metadatos de aplicación (JSON, solo los cambian los administradores)
admin-user-email-confirmed = Correo electrónico confirmado
admin-user-actions = Acciones
admin-user-is-self = Es su propia cuenta: desactivarla o eliminarla cierra su sesión.
admin-user-sessions = Sesiones
admin-user-no-sessions = Ninguna sesión activa.
admin-user-factors = Segundos factores
admin-factor-totp-on = Aplicación de autenticación: activa desde { $since }
admin-factor-totp-off = Aplicación de autenticación: desactivada
admin-factor-passkeys = { $count ->
    [one] Una llave de acceso
   *[other] { $count } llaves de acceso
}
admin-factor-recovery = { $count ->
    [one] Queda un código de recuperación
   *[other] Quedan { $count } códigos de recuperación
}
admin-user-identities = Proveedores de inicio de sesión vinculados
admin-user-no-identities = Ningún proveedor vinculado.
admin-user-trail = Historial de auditoría
admin-user-trail-more = Ver todos los eventos de este usuario
admin-action-disable = Desactivar la cuenta
admin-action-enable = Activar la cuenta
admin-action-delete = Eliminar la cuenta
admin-action-logout = Cerrar todas las sesiones
admin-action-factors = Restablecer los segundos factores
admin-action-reset-link = Enviar un enlace para restablecer la contraseña

## Confirmaciones

admin-confirm-disable-title = Desactivar la cuenta
admin-confirm-disable-text = Se cerrarán todas las sesiones de { $email } y no podrá iniciar sesión hasta que la cuenta se active de nuevo.
admin-confirm-enable-title = Activar la cuenta
admin-confirm-enable-text = { $email } podrá volver a iniciar sesión.
admin-confirm-delete-title = Eliminar la cuenta
admin-confirm-delete-text = Se eliminarán la cuenta de { $email }, sus sesiones, factores y proveedores vinculados. No se puede deshacer.
admin-confirm-logout-title = Cerrar todas las sesiones
admin-confirm-logout-text = Todas las sesiones de { $email } terminan ahora, en todos sus dispositivos. Podrá volver a iniciar sesión.
admin-confirm-factors-title = Restablecer los segundos factores
admin-confirm-factors-text = Se eliminarán la aplicación de autenticación, las llaves de acceso y los códigos de recuperación de { $email }, y se cerrarán todas sus sesiones. Se le avisará por correo.
admin-confirm-reset-link-title = Enviar un enlace de restablecimiento
admin-confirm-reset-link-text = Se enviará a { $email } un enlace para elegir una contraseña nueva.

## Avisos tras una acción

admin-notice-updated = Cambios guardados.
admin-notice-unchanged = No cambió nada.
admin-notice-disabled = La cuenta está desactivada y sus sesiones cerradas.
admin-notice-enabled = La cuenta está activada.
admin-notice-deleted = La cuenta se eliminó.
admin-notice-logged-out = Se cerraron todas las sesiones de este usuario.
admin-notice-factors-reset = Se eliminaron los segundos factores y se cerraron todas las sesiones.
admin-notice-reset-link-sent = El enlace de restablecimiento va en camino.
admin-notice-reset-link-throttled = Hace menos de un minuto se envió un enlace a esta dirección; no se envió otro.
admin-notice-key-revoked = La clave de API está revocada.
admin-notice-client-updated = El cliente está guardado.
admin-notice-client-deleted = El cliente se eliminó.
admin-notice-mail-retried = El mensaje está de nuevo en la cola.

## Registro de auditoría (admin_audit.html, admin_events.html)

admin-audit-title = Registro de auditoría
admin-audit-user-label = Id de usuario
admin-audit-kind-label = Tipo de evento
admin-audit-any-kind = Cualquier tipo
admin-audit-filter-button = Filtrar
admin-audit-clear = Quitar los filtros
admin-audit-none = Ningún evento.

## Claves de API (admin_keys.html)

admin-keys-title = Claves de API
admin-keys-scopes = Permisos
admin-keys-none = Aún no hay claves de API.
admin-keys-revoke = Revocar
admin-keys-revoked = Revocada el { $at }
admin-keys-new = Nueva clave de API
admin-keys-create = Crear la clave
admin-keys-created-title = Nueva clave de API
admin-keys-created-text = La clave «{ $name }» está lista. Entréguela al servicio que la usa.
admin-keys-key-label = Clave de API
admin-keys-revoke-title = Revocar la clave de API
admin-keys-revoke-text = Los servicios que usan la clave «{ $name }» serán rechazados de inmediato. No se puede deshacer.
admin-scope-admin = gestionar usuarios, leer el registro de auditoría
admin-scope-challenges = crear y verificar tokens de desafío

## Clientes OAuth (admin_clients.html, admin_client.html)

admin-clients-title = Clientes OAuth
admin-clients-oidc-off = Aquí toktok no es un proveedor OpenID: ponga [oidc] enabled = true para registrar clientes.
admin-clients-none = Aún no hay clientes.
admin-clients-new = Nuevo cliente
admin-clients-create = Crear el cliente
admin-clients-id = Id de cliente
admin-clients-type = Tipo
admin-clients-type-confidential = Confidencial (un servidor, con secreto)
admin-clients-type-public = Público (una aplicación web o móvil)
admin-clients-redirect-uris = URI de redirección
admin-clients-logout-uris = URI de redirección tras cerrar sesión
admin-clients-one-per-line = Una por línea.
admin-clients-grant-types = Tipos de concesión
admin-clients-scopes = Ámbitos
admin-clients-audience = Audiencia de sus tokens de acceso (vacío: la predeterminada)
admin-clients-alg = Algoritmo del token de identidad
admin-clients-skip-consent = Omitir la página de consentimiento (aplicación propia)
admin-client-title = Cliente { $name }
admin-back-to-clients = ← Todos los clientes
admin-clients-rotate = Nuevo secreto
admin-clients-delete = Eliminar el cliente
admin-clients-rotate-title = Nuevo secreto de cliente
admin-clients-rotate-text = Un secreto nuevo reemplaza de inmediato el de «{ $name }»: el anterior deja de funcionar.
admin-clients-delete-title = Eliminar el cliente
admin-clients-delete-text = Se eliminarán «{ $name }», todas las autorizaciones que le dieron los usuarios y sus sesiones. No se puede deshacer.
admin-clients-created-title = Nuevo cliente
admin-clients-rotated-title = Nuevo secreto de cliente
admin-clients-secret-label = Secreto de cliente
admin-clients-secret-text = El secreto de «{ $name }»:

## Proveedores (admin_providers.html)

admin-providers-title = Proveedores de inicio de sesión
admin-providers-intro = Los [[providers]] del archivo de configuración (solo lectura; los secretos nunca se muestran).
admin-providers-kind = Tipo
admin-providers-issuer = Emisor
admin-providers-callback = URL de retorno
admin-providers-enabled = Activo
admin-providers-disabled = Desactivado
admin-providers-none = No hay ningún proveedor configurado.

## Cola de correo (admin_mail.html)

admin-mail-title = Cola de correo
admin-mail-failed = Abandonados
admin-mail-pending = Esperando envío
admin-mail-recipient = Destinatario
admin-mail-attempts = Intentos
admin-mail-last-error = Último error
admin-mail-failed-at = Abandonado el
admin-mail-next-try = Próximo intento
admin-mail-retry = Reintentar
admin-mail-no-failed = No se abandonó ningún mensaje.
admin-mail-no-pending = Ningún mensaje espera.
admin-mail-limit = Se muestran como máximo { $limit } mensajes de cada tipo.

## Configuración (admin_settings.html)

admin-settings-title = Configuración
admin-settings-intro = La configuración con la que funciona toktok, tras el archivo y las variables TOKTOK_*. Solo lectura; los secretos aparecen como [redacted].
admin-settings-key = Clave
admin-settings-value = Valor

## Webhooks (http::console::webhooks)
admin-nav-hooks = Webhooks
admin-hooks-title = Webhooks
admin-hooks-endpoint-title = Destino de webhook
admin-hooks-url = URL
admin-hooks-url-hint = Una dirección http o https en la que escucha su servicio. Las direcciones internas (loopback, redes privadas, metadatos de la nube) se rechazan.
admin-hooks-url-hint-private = Una dirección http o https en la que escucha su servicio. Las direcciones internas están permitidas en este servidor ([hooks] allow_private_targets).
admin-hooks-description = Descripción (opcional)
admin-hooks-events = Eventos
admin-hooks-event = Evento
admin-hooks-none = Todavía no hay ningún destino de webhook.
admin-hooks-new = Nuevo destino
admin-hooks-create = Añadir el destino
admin-hooks-active = Activo
admin-hooks-paused = En pausa
admin-hooks-secret-title = Secreto de firma
admin-hooks-secret-text = Los envíos a { $url } se firman con este secreto (Standard Webhooks). Entrégueselo al servicio receptor para que pueda verificarlos.
admin-hooks-secret-once = Solo se muestra esta vez: toktok lo guarda para firmar los envíos, pero no lo vuelve a mostrar. Cópielo ahora.
admin-hooks-secret-label = Secreto de firma
admin-hooks-test = Enviar un evento de prueba
admin-hooks-pause = Pausar
admin-hooks-resume = Reanudar
admin-hooks-rotate-title = Renovar el secreto
admin-hooks-rotate-text = Un secreto nuevo sustituye al actual de inmediato: un receptor que aún tenga el antiguo rechazará los envíos a { $url } firmados con el nuevo.
admin-hooks-delete-title = Eliminar el destino
admin-hooks-delete-text = { $url } no recibirá nada más; se eliminan sus envíos pendientes y su registro. No se puede deshacer.
admin-hooks-log = Envíos
admin-hooks-log-none = Todavía no se ha enviado nada a este destino.
admin-hooks-log-more = Los 50 envíos más recientes; la API de administración recorre todos.
admin-hooks-answer = Última respuesta
admin-hooks-at = Hora del evento
admin-hooks-send-again = Enviar de nuevo
admin-hooks-status-pending = En espera
admin-hooks-status-delivered = Entregado
admin-hooks-status-failed = Abandonado
admin-notice-hook-test-queued = Un evento de prueba está en camino.
admin-notice-hook-paused = El destino está en pausa: no se le envía nada y los eventos nuevos no se guardan para él.
admin-notice-hook-resumed = El destino vuelve a estar activo.
admin-notice-hook-deleted = Se ha eliminado el destino.
admin-notice-hook-retried = El envío se hará de nuevo.
