package app.countersign.jvm

import app.countersign.core.Authenticator
import app.countersign.core.CountersignException
import app.countersign.core.ExportFormat
import app.countersign.core.ImportFormat
import app.countersign.core.ImportSummary
import app.countersign.core.KdfStrength
import app.countersign.core.OtpType
import app.countersign.core.exportFormats
import java.io.File
import java.nio.file.Files
import org.junit.jupiter.api.AfterAll
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertNull
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.DynamicTest
import org.junit.jupiter.api.Test
import org.junit.jupiter.api.TestFactory
import org.junit.jupiter.api.TestInstance
import org.junit.jupiter.api.assertThrows

/** An account an import must bring in, as the app lists it afterwards. */
data class ExpectedAccount(
    val issuer: String?,
    val label: String,
    val type: OtpType,
    val algorithm: String = "SHA1",
    val digits: Int = 6,
    val period: UInt? = 30u,
    val counter: ULong? = null,
)

/**
 * Another app's export (a fixture in core/tests/fixtures/import) and what one `importFile`
 * call must report, entry by entry. Add a row to [IMPORT_CASES] for another format.
 */
data class ImportCase(
    val file: String,
    val password: String?,
    val format: ImportFormat,
    val accounts: List<ExpectedAccount>,
    /** Source positions (from 0) and names of entries that must be reported as not imported. */
    val failures: Map<Int, String> = emptyMap(),
    /** Source positions of entries that must carry a notice. */
    val notices: List<Int> = emptyList(),
    /** Entries in the file: each is an account, a failure, a duplicate or not an OTP account. */
    val entries: Int,
)

/** The accounts the Aegis and 2FAS fixtures share (core/tests/transfer.rs). */
private val SHARED_ACCOUNTS = listOf(
    ExpectedAccount("GitHub", "alice@example.com", OtpType.TOTP),
    ExpectedAccount("Bank", "bob", OtpType.TOTP, algorithm = "SHA256", digits = 8, period = 60u),
    ExpectedAccount("VPN", "carol", OtpType.HOTP, algorithm = "SHA512", period = null, counter = 42uL),
    ExpectedAccount("Steam", "dave", OtpType.STEAM, digits = 5),
)

val IMPORT_CASES = listOf(
    ImportCase("aegis-plain.json", null, ImportFormat.AEGIS, SHARED_ACCOUNTS, mapOf(5 to "broken"), entries = 7),
    ImportCase("aegis-encrypted.json", "aegis-password", ImportFormat.AEGIS, SHARED_ACCOUNTS, mapOf(5 to "broken"), entries = 7),
    ImportCase("2fas-encrypted.2fas", "2fas-password", ImportFormat.TWO_FAS, SHARED_ACCOUNTS, entries = 7),
    // The Authy Android app's storage, its tokens encrypted with the user's backup password
    // (core/tests/reference/make_authy_fixtures.py).
    ImportCase(
        "authy/authenticator-encrypted.xml", "authy-backup-password", ImportFormat.AUTHY,
        listOf(
            ExpectedAccount("Service0", "user0", OtpType.TOTP),
            ExpectedAccount("Service1", "user1", OtpType.TOTP, digits = 7),
            ExpectedAccount("Service2", "user2", OtpType.TOTP, digits = 8),
        ),
        mapOf(3 to "Broken: grace"), entries = 4,
    ),
    // Authy-native tokens: each imported with the notice that it works only while the Authy
    // device stays registered.
    ImportCase(
        "authy/native.xml", null, ImportFormat.AUTHY,
        listOf(
            ExpectedAccount("Twilio", "", OtpType.TOTP, digits = 7, period = 10u),
            ExpectedAccount("SendGrid", "", OtpType.TOTP, digits = 7, period = 10u),
            ExpectedAccount("Gemini", "", OtpType.TOTP, digits = 6, period = 10u),
        ),
        mapOf(3 to "Broken"), notices = listOf(0, 1, 2), entries = 4,
    ),
)

/** Imports and exports through the generated Kotlin API against the real library. */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class ImportExportTest {
    private val dir: File = Files.createTempDirectory("countersign-transfer").toFile()
    private val fixtures = File(
        System.getProperty("countersign.fixtures")
            ?: error("the countersign.fixtures system property names core/tests/fixtures/import"),
    )
    private var vaults = 0

    @AfterAll
    fun cleanUp() {
        dir.deleteRecursively()
    }

    private fun newVault() =
        Authenticator.create(File(dir, "v${vaults++}.vault").path, "passphrase", KdfStrength.MINIMUM, null)

    /** One call; an encrypted file first answers PasswordRequired, as the app would see it. */
    private fun importAsAUserWould(auth: Authenticator, case: ImportCase): ImportSummary {
        val data = File(fixtures, case.file).readBytes()
        if (case.password == null) return auth.importFile(data, null)
        assertThrows<CountersignException.PasswordRequired> { auth.importFile(data, null) }
        assertThrows<CountersignException.WrongPassphrase> { auth.importFile(data, "not it") }
        return auth.importFile(data, case.password)
    }

    @TestFactory
    fun `one call imports another app's file and reports each entry`() = IMPORT_CASES.map { case ->
        DynamicTest.dynamicTest(case.file) {
            newVault().use { auth ->
                val summary = importAsAUserWould(auth, case)
                assertEquals(case.format, summary.format)
                for (expected in case.accounts) {
                    val imported = summary.accounts.single {
                        it.label == expected.label && it.issuer == expected.issuer
                    }
                    assertEquals(expected.issuer, imported.issuer)
                    assertEquals(expected.type, imported.otpType)
                    val id = imported.accountId ?: error("${expected.label} was not added")
                    val stored = auth.accounts().single { it.id == id }
                    assertEquals(expected.algorithm, stored.algorithm, expected.label)
                    assertEquals(expected.digits, stored.digits.toInt(), expected.label)
                    assertEquals(expected.period, stored.period, expected.label)
                    assertEquals(expected.counter, stored.counter, expected.label)
                }
                for ((index, name) in case.failures) {
                    val failure = summary.failures.single { it.index == index.toUInt() }
                    assertEquals(name, failure.name)
                    assertTrue(failure.message.isNotEmpty())
                }
                assertEquals(case.notices, summary.notices.map { it.index.toInt() })
                for (notice in summary.notices) {
                    assertTrue(notice.message.isNotEmpty(), "the notice on ${notice.name} says why")
                }
                val accounted = summary.accounts.size + summary.failures.size + summary.notOtp.toInt() +
                    (summary.duplicates.toInt() - summary.accounts.count { it.accountId == null })
                assertEquals(case.entries, accounted, "every entry of ${case.file} is accounted for")
                assertEquals(summary.accounts.size.toUInt(), summary.added)

                // The same file again: every account is already held, none added twice.
                val again = auth.importAccounts(case.format, File(fixtures, case.file).readBytes(), case.password)
                assertEquals(0u, again.added)
                assertTrue(again.accounts.all { it.accountId == null })
            }
        }
    }

    @Test
    fun `an export names each account the format cannot hold`() {
        newVault().use { auth ->
            importAsAUserWould(auth, IMPORT_CASES.first())
            val google = auth.exportAccounts(ExportFormat.GOOGLE_AUTHENTICATOR, null)
            // Google Authenticator holds neither Steam nor a 60-second period.
            val skipped = google.notices.filter { it.skipped }.map { it.name }.sorted()
            assertEquals(listOf("Bank (bob)", "Steam (dave)"), skipped)
            assertEquals(2u, google.exported)
            assertTrue(String(google.data).startsWith("otpauth-migration://offline?data="))

            // An encrypted Aegis export holds everything and reads back with one call.
            val aegis = auth.exportAccounts(ExportFormat.AEGIS, "export password")
            assertTrue(aegis.notices.isEmpty())
            assertEquals(4u, aegis.exported)
            newVault().use { other ->
                assertThrows<CountersignException.PasswordRequired> { other.importFile(aegis.data, null) }
                val back = other.importFile(aegis.data, "export password")
                assertEquals(ImportFormat.AEGIS, back.format)
                assertEquals(auth.accounts().map { it.label }, other.accounts().map { it.label })
            }
            // A backup needs its password: the typed error, not a generic one.
            assertThrows<CountersignException.PasswordRequired> { auth.exportAccounts(ExportFormat.COUNTERSIGN, null) }
        }
    }

    @Test
    fun `the export formats are listed with their password options`() {
        val formats = exportFormats()
        assertEquals(ExportFormat.values().toSet(), formats.map { it.format }.toSet())
        val backup = formats.single { it.format == ExportFormat.COUNTERSIGN }
        assertTrue(backup.needsPassword && backup.canEncrypt)
        assertEquals("google-authenticator", formats.single { it.format == ExportFormat.GOOGLE_AUTHENTICATOR }.name)
        assertNull(formats.firstOrNull { it.name.isEmpty() })
    }
}
