package app.countersign.shell

import app.countersign.core.CountersignException
import app.countersign.core.DeviceSigner
import java.security.InvalidKeyException
import java.security.KeyPair
import java.security.KeyPairGenerator
import java.security.PrivateKey
import java.security.PublicKey
import java.security.Signature
import java.security.SignatureException
import java.security.spec.ECGenParameterSpec

/**
 * A [DeviceSigner] over any JCA key pair: ECDSA P-256 with SHA-256, DER signatures (what the
 * core expects from platform key stores). On Android the key lives in the Keystore
 * ([app.countersign.android.KeystoreDeviceSigner] builds one of these over it); on a JVM
 * (tests, desktop) [software] makes an in-memory key.
 *
 * Key-store refusals (the user did not authenticate, the key was invalidated) arrive in Rust as
 * [CountersignException.KeyStore], which the core reports back as the same typed error.
 */
open class JcaDeviceSigner(
    private val privateKey: PrivateKey,
    private val publicKey: PublicKey,
) : DeviceSigner {
    override fun publicKeySpki(): ByteArray = publicKey.encoded

    override fun signDer(message: ByteArray): ByteArray =
        try {
            Signature.getInstance("SHA256withECDSA").run {
                initSign(privateKey)
                update(message)
                sign()
            }
        } catch (e: InvalidKeyException) {
            throw CountersignException.KeyStore("the device key is not usable: ${e.javaClass.simpleName}")
        } catch (e: SignatureException) {
            throw CountersignException.KeyStore("signing refused: ${e.javaClass.simpleName}")
        }

    companion object {
        /** A fresh in-memory P-256 key (tests and desktops; phones use their key store). */
        fun software(): JcaDeviceSigner {
            val pair: KeyPair = KeyPairGenerator.getInstance("EC").run {
                initialize(ECGenParameterSpec("secp256r1"))
                generateKeyPair()
            }
            return JcaDeviceSigner(pair.private, pair.public)
        }
    }
}
