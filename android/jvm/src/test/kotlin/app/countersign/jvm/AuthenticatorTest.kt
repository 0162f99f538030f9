package app.countersign.jvm

import app.countersign.core.Authenticator
import app.countersign.core.CountersignException
import app.countersign.core.KdfStrength
import app.countersign.core.OtpType
import app.countersign.core.PayloadKind
import app.countersign.shell.JcaDeviceKeys
import app.countersign.shell.scanLuma
import java.io.ByteArrayInputStream
import java.io.File
import java.nio.ByteBuffer
import java.nio.file.Files
import java.security.KeyFactory
import java.security.Signature
import java.security.spec.X509EncodedKeySpec
import java.util.Base64
import javax.imageio.ImageIO
import kotlinx.coroutines.TimeoutCancellationException
import kotlinx.coroutines.runBlocking
import kotlinx.coroutines.withTimeout
import org.junit.jupiter.api.AfterAll
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertFalse
import org.junit.jupiter.api.Assertions.assertNotNull
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.Test
import org.junit.jupiter.api.TestInstance
import org.junit.jupiter.api.assertThrows

/** The generated Kotlin bindings and the shell code against the real host library. */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class AuthenticatorTest {
    private val dir: File = Files.createTempDirectory("countersign-kotlin").toFile()
    private val bank by lazy { BankServer() }

    @AfterAll
    fun cleanUp() {
        bank.close()
        dir.deleteRecursively()
    }

    private fun newVault(name: String, passphrase: String = "correct horse battery staple") =
        Authenticator.create(File(dir, name).path, passphrase, KdfStrength.MINIMUM, null)

    @Test
    fun `enrols from an otpauth URI and its codes are the RFC 6238 vectors`() {
        newVault("rfc.vault").use { auth ->
            val added = auth.addFromUri(
                "otpauth://totp/RFC:6238?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&digits=8&issuer=RFC",
                listOf("test"),
            )
            assertEquals(1, added.size)
            val account = added[0]
            assertEquals(OtpType.TOTP, account.otpType)
            assertEquals("RFC", account.issuer)
            assertEquals(listOf("test"), account.tags)
            // RFC 6238 Appendix B, SHA-1.
            for ((time, code) in listOf(59UL to "94287082", 1111111109UL to "07081804", 1234567890UL to "89005924", 20000000000UL to "65353130")) {
                val codes = auth.codesAt(time)
                assertEquals(code, codes.single().code, "T=$time")
            }
            assertEquals(1u, auth.codesAt(59UL).single().secondsRemaining)
            // RFC 4226 Appendix D through an HOTP URI: counters 0, 1, 2.
            val hotp = auth.addFromUri("otpauth://hotp/RFC:4226?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&counter=0&issuer=RFC", emptyList()).single()
            assertEquals(listOf("755224", "287082", "359152"), (0..2).map { auth.nextHotpCode(hotp.id).code })
            assertEquals(3UL, auth.accounts().first { it.id == hotp.id }.counter)
        }
    }

    @Test
    fun `the vault locks, refuses a wrong passphrase, and reopens from disk`() {
        val path = File(dir, "lock.vault").path
        Authenticator.create(path, "first passphrase", KdfStrength.MINIMUM, null).use { auth ->
            auth.addFromUri("otpauth://totp/Bank:alice?secret=JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP&issuer=Bank", emptyList())
            auth.lock()
            assertFalse(auth.isUnlocked())
            assertThrows<CountersignException.Locked> { auth.accounts() }
            assertThrows<CountersignException.WrongPassphrase> { auth.unlockWithPassphrase("second guess") }
            auth.unlockWithPassphrase("first passphrase")
            assertEquals("alice", auth.accounts().single().label)
        }
        Authenticator.open(path, null).use { auth ->
            assertFalse(auth.isUnlocked())
            auth.unlockWithPassphrase("first passphrase")
            val id = auth.accounts().single().id
            auth.updateAccount(id, "Bank", "alice@bank.example", listOf("work"), "note")
            assertEquals("alice@bank.example", auth.search("bank.example").single().label)
            auth.deleteAccount(id)
            assertTrue(auth.accounts().isEmpty())
        }
    }

    @Test
    fun `errors arrive as typed exceptions callers can when on`() {
        newVault("errors.vault").use { auth ->
            val error = assertThrows<CountersignException> { auth.addFromUri("otpauth://totp/Bank:alice?issuer=Bank", emptyList()) }
            val advice = when (error) {
                is CountersignException.InvalidInput -> "show: ${error.reason}"
                is CountersignException.Locked -> "unlock"
                else -> "other"
            }
            assertTrue(advice.startsWith("show:") && advice.contains("secret"), advice)
            assertThrows<CountersignException.InvalidInput> { auth.deleteAccount("not-an-id") }
            assertThrows<CountersignException.InvalidInput> {
                auth.scanFrame(ByteBuffer.allocateDirect(10), 100u, 100u, 100u)
            }
            assertThrows<CountersignException.InvalidInput> { auth.scanImage(byteArrayOf(1, 2, 3)) }
            assertThrows<CountersignException.InvalidInput> {
                runBlocking { auth.answerApproval(JcaDeviceKeys(), "nope", true, null) }
            }
        }
    }

    @Test
    fun `closed objects refuse further calls`() {
        val auth = newVault("closed.vault")
        auth.close()
        assertThrows<IllegalStateException> { auth.accounts() }
    }

    /** The registration QR PNG from the bank, decoded to luma and placed into a 1280×720 frame with row padding. */
    private fun registrationFrame(png: ByteArray, stride: Int): Triple<ByteBuffer, Int, Int> {
        val image = ImageIO.read(ByteArrayInputStream(png))
        val (width, height) = 1280 to 720
        val frame = ByteBuffer.allocateDirect(stride * height)
        for (i in 0 until stride * height) frame.put(i, 200.toByte())
        val (left, top) = 500 to 200
        for (y in 0 until image.height) for (x in 0 until image.width) {
            val rgb = image.getRGB(x, y)
            frame.put((top + y) * stride + left + x, (rgb and 0xff).toByte())
        }
        return Triple(frame, width, height)
    }

    private fun newUser(phone: String, server: BankServer = bank): String =
        field(server.call("POST", "/protected/json/users/new", mapOf(
            "user[email]" to "hermione@example.com", "user[cellphone]" to phone, "user[country_code]" to "44",
        )), "id")!!

    private fun registrationLink(server: BankServer, user: String): String =
        field(server.call("POST", "/protected/json/users/$user/registrations"), "uri")!!

    private fun approvalRequest(server: BankServer, user: String, amount: String): String =
        field(server.call("POST", "/onetouch/json/users/$user/approval_requests", mapOf(
            "message" to "Approve payment", "details[Amount]" to amount,
        )), "uuid")!!

    @Test
    fun `a Kotlin signer registers from a scanned frame and approves a payment on a real server`() = runBlocking {
        val keys = JcaDeviceKeys()
        newVault("phone.vault").use { auth ->
            val user = newUser("7700900301")
            val registration = bank.call("POST", "/protected/json/users/$user/registrations")
            val png = Base64.getDecoder().decode(field(registration, "qr_code")!!.removePrefix("data:image/png;base64,"))
            val (frame, width, height) = registrationFrame(png, stride = 1344)
            val scanned = auth.scanLuma(frame, width, height, 1344).single()
            assertEquals(PayloadKind.DeviceRegistration, scanned.kind)
            assertEquals(4, scanned.corners.size)

            val device = auth.registerDevice(scanned.text, keys, "JVM phone", "android", null)
            assertEquals(user, device.authyId.toString())
            // The key made for this registration, under the alias named after it.
            val signer = keys.key("app.countersign.device-key.${device.registrationId}")
            assertNotNull(device.accountId, "the Authy-style account was added")

            val created = bank.call("POST", "/onetouch/json/users/$user/approval_requests", mapOf(
                "message" to "Approve payment", "details[Amount]" to "713.00 EUR",
                "details[Payee]" to "Hermione Granger", "number_matching" to "true",
            ))
            val uuid = field(created, "uuid")!!
            val number = field(created, "number")!!.toInt()
            val pending = auth.pendingApprovals(keys)
            assertTrue(pending.failures.isEmpty())
            val request = pending.requests.single()
            assertEquals(device.registrationId, request.registrationId)
            assertEquals(uuid, request.uuid)
            assertEquals(listOf("Amount" to "713.00 EUR", "Payee" to "Hermione Granger"), request.details.map { it.key to it.value })
            assertTrue(request.numberChoices.map { it.toInt() }.contains(number))
            assertThrows<CountersignException.InvalidInput> {
                runBlocking { auth.answerApproval(keys, uuid, true, null) }
            }
            assertEquals("approved", auth.answerApproval(keys, uuid, true, number.toUByte()))

            // The bank checks the evidence with the key the Kotlin signer holds (JCA, raw r‖s).
            val status = bank.call("GET", "/onetouch/json/approval_requests/$uuid")
            assertEquals("approved", field(status, "status"))
            val jws = field(status, "jws")!!.split(".")
            val verifier = Signature.getInstance("SHA256withECDSAinP1363Format")
            verifier.initVerify(KeyFactory.getInstance("EC").generatePublic(X509EncodedKeySpec(signer.publicKeySpki())))
            verifier.update("${jws[0]}.${jws[1]}".toByteArray())
            assertTrue(verifier.verify(Base64.getUrlDecoder().decode(jws[2])))

            // Revoked: the server's refusal arrives typed, with its protocol code, as this
            // registration's failure.
            bank.call("POST", "/protected/json/users/$user/devices/${device.deviceId}/revoke")
            val afterRevocation = auth.pendingApprovals(keys)
            assertTrue(afterRevocation.requests.isEmpty())
            val refused = afterRevocation.failures.single()
            assertEquals(device.registrationId, refused.registrationId)
            assertEquals("revoked_device", (refused.error as CountersignException.ServerRejected).code)
        }
    }

    @Test
    fun `each registration has its own key and a bank that is down hides no other bank's requests`() = runBlocking {
        val keys = JcaDeviceKeys()
        val other = BankServer()
        newVault("banks.vault").use { auth ->
            // Two customers of one bank on this phone, and a customer of another bank.
            val alice = newUser("7700900311")
            val bob = newUser("7700900312")
            val carol = newUser("7700900313", other)
            val registrations = listOf(
                auth.registerDevice(registrationLink(bank, alice), keys, "JVM phone", "android", null),
                auth.registerDevice(registrationLink(bank, bob), keys, "JVM phone", "android", null),
                auth.registerDevice(registrationLink(other, carol), keys, "JVM phone", "android", null),
            )
            assertEquals(registrations.map { it.registrationId }.toSet(), auth.devices().map { it.registrationId }.toSet())
            // A key per registration: no two registrations, and so no two banks, share a public key.
            val publicKeys = keys.aliases().map { keys.key(it).publicKeySpki().toList() }.toSet()
            assertEquals(3, keys.aliases().size)
            assertEquals(3, publicKeys.size)

            val forAlice = approvalRequest(bank, alice, "713.00 EUR")
            val forBob = approvalRequest(bank, bob, "42.00 EUR")
            approvalRequest(other, carol, "1.00 EUR")
            other.close()
            val pending = auth.pendingApprovals(keys)
            assertEquals(setOf(forAlice, forBob), pending.requests.map { it.uuid }.toSet())
            val down = pending.failures.single()
            assertEquals(registrations[2].registrationId, down.registrationId)
            assertTrue(down.error is CountersignException.Network, down.error.toString())
            // Both registrations with the first bank answer, each with its own key.
            assertEquals("approved", auth.answerApproval(keys, forAlice, true, null))
            assertEquals("denied", auth.answerApproval(keys, forBob, false, null))
            assertEquals("approved", field(bank.call("GET", "/onetouch/json/approval_requests/$forAlice"), "status"))
            assertEquals("denied", field(bank.call("GET", "/onetouch/json/approval_requests/$forBob"), "status"))
        }
    }

    @Test
    fun `a long network call is cancelled with its coroutine`() = runBlocking {
        // A server that accepts connections and never answers.
        java.net.ServerSocket(0).use { silent ->
            val accepted = Thread { runCatching { while (true) silent.accept() } }.apply { isDaemon = true; start() }
            val server = Base64.getUrlEncoder().withoutPadding().encodeToString("http://127.0.0.1:${silent.localPort}".toByteArray())
            newVault("cancel.vault").use { auth ->
                val keys = JcaDeviceKeys()
                val started = System.nanoTime()
                assertThrows<TimeoutCancellationException> {
                    runBlocking {
                        withTimeout(300) {
                            auth.registerDevice("countersign://register?v=1&server=$server&code=ABCDEF", keys, "x", "android", null)
                        }
                    }
                }
                assertTrue((System.nanoTime() - started) / 1_000_000 < 5_000, "cancelled promptly")
                assertTrue(auth.devices().isEmpty())
                // The key made for the abandoned registration is deleted with it.
                assertTrue(keys.aliases().isEmpty(), keys.aliases().toString())
            }
            accepted.interrupt()
        }
    }
}
