package app.countersign.shell

import app.countersign.core.CountersignException
import app.countersign.core.DeviceKeyStore
import app.countersign.core.DeviceSigner
import java.util.concurrent.ConcurrentHashMap

/**
 * A [DeviceKeyStore] of in-memory JCA keys, one per alias (tests and desktops; phones use
 * [app.countersign.android.KeystoreDeviceKeys]). The core creates one key per registration,
 * so no two banks see the same public key.
 */
class JcaDeviceKeys : DeviceKeyStore {
    private val keys = ConcurrentHashMap<String, JcaDeviceSigner>()

    override fun createKey(alias: String): DeviceSigner {
        val signer = JcaDeviceSigner.software()
        if (keys.putIfAbsent(alias, signer) != null) {
            throw CountersignException.KeyStore("a key named $alias already exists")
        }
        return signer
    }

    override fun key(alias: String): DeviceSigner =
        keys[alias] ?: throw CountersignException.KeyStore("no device key named $alias")

    override fun deleteKey(alias: String) {
        keys.remove(alias)
    }

    /** The aliases of the keys held now. */
    fun aliases(): Set<String> = keys.keys.toSet()
}
