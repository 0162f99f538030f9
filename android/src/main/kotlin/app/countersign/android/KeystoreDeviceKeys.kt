package app.countersign.android

import android.content.Context
import app.countersign.core.CountersignException
import app.countersign.core.DeviceKeyStore
import app.countersign.core.DeviceSigner
import java.security.KeyStore

/**
 * Device keys in the Android Keystore, one per registration under the alias the core picks
 * (`app.countersign.device-key.<registration id>`), so no two banks see the same public key.
 * Registrations made before keys were per registration name the alias
 * `app.countersign.device-key`; an app that used another alias then passes it as
 * [sharedAlias].
 */
class KeystoreDeviceKeys(
    private val context: Context,
    private val authenticationSeconds: Int = 30,
    private val sharedAlias: String = "app.countersign.device-key",
) : DeviceKeyStore {
    private val store: KeyStore = KeyStore.getInstance("AndroidKeyStore").apply { load(null) }

    private fun platformAlias(alias: String) =
        if (alias == "app.countersign.device-key") sharedAlias else alias

    override fun createKey(alias: String): DeviceSigner {
        if (store.containsAlias(alias)) {
            throw CountersignException.KeyStore("a key named $alias already exists")
        }
        return KeystoreDeviceSigner.getOrCreate(context, alias, authenticationSeconds)
    }

    override fun key(alias: String): DeviceSigner {
        val name = platformAlias(alias)
        if (!store.containsAlias(name)) {
            throw CountersignException.KeyStore("the device key $name is gone")
        }
        return KeystoreDeviceSigner.getOrCreate(context, name, authenticationSeconds)
    }

    override fun deleteKey(alias: String) {
        val name = platformAlias(alias)
        if (store.containsAlias(name)) store.deleteEntry(name)
    }
}
