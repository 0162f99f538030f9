package app.countersign.android

import android.content.pm.PackageManager
import android.content.Context
import android.os.Build
import android.security.keystore.KeyGenParameterSpec
import android.security.keystore.KeyProperties
import android.security.keystore.StrongBoxUnavailableException
import app.countersign.shell.JcaDeviceSigner
import java.security.KeyPairGenerator
import java.security.KeyStore
import java.security.PrivateKey
import java.security.spec.ECGenParameterSpec

/**
 * The device key in the Android Keystore: P-256, StrongBox first, TEE otherwise; signing
 * requires the user to authenticate (biometric or device credential) within
 * [authenticationSeconds] — call the approve path after a BiometricPrompt succeeds. The key
 * never leaves the secure hardware; the core receives DER signatures through [JcaDeviceSigner].
 * Apps hand the core a [KeystoreDeviceKeys], which makes one of these per registration.
 */
class KeystoreDeviceSigner private constructor(privateKey: PrivateKey, publicKey: java.security.PublicKey) :
    JcaDeviceSigner(privateKey, publicKey) {

    companion object {
        private const val KEYSTORE = "AndroidKeyStore"

        /** The key under [alias], created on first use. */
        fun getOrCreate(context: Context, alias: String, authenticationSeconds: Int = 30): KeystoreDeviceSigner {
            val store = KeyStore.getInstance(KEYSTORE).apply { load(null) }
            if (!store.containsAlias(alias)) {
                val strongBox = Build.VERSION.SDK_INT >= 28 &&
                    context.packageManager.hasSystemFeature(PackageManager.FEATURE_STRONGBOX_KEYSTORE)
                try {
                    generate(alias, authenticationSeconds, strongBox)
                } catch (e: StrongBoxUnavailableException) {
                    generate(alias, authenticationSeconds, strongBox = false)
                }
            }
            val entry = store.getEntry(alias, null) as KeyStore.PrivateKeyEntry
            return KeystoreDeviceSigner(entry.privateKey, entry.certificate.publicKey)
        }

        private fun generate(alias: String, authenticationSeconds: Int, strongBox: Boolean) {
            val spec = KeyGenParameterSpec.Builder(alias, KeyProperties.PURPOSE_SIGN)
                .setAlgorithmParameterSpec(ECGenParameterSpec("secp256r1"))
                .setDigests(KeyProperties.DIGEST_SHA256)
                .setUserAuthenticationRequired(true)
                .setUserAuthenticationParameters(
                    authenticationSeconds,
                    KeyProperties.AUTH_BIOMETRIC_STRONG or KeyProperties.AUTH_DEVICE_CREDENTIAL,
                )
                .setInvalidatedByBiometricEnrollment(true)
                .setIsStrongBoxBacked(strongBox)
                .build()
            KeyPairGenerator.getInstance(KeyProperties.KEY_ALGORITHM_EC, KEYSTORE).run {
                initialize(spec)
                generateKeyPair()
            }
        }
    }
}
