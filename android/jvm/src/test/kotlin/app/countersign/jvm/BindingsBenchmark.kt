package app.countersign.jvm

import app.countersign.core.Authenticator
import app.countersign.core.KdfStrength
import java.io.File
import java.nio.ByteBuffer
import java.nio.file.Files
import org.junit.jupiter.api.Tag
import org.junit.jupiter.api.Test

/**
 * Kotlin → Rust call costs (issue 7), printed, not asserted: `scripts/kotlin-test --bench`
 * (`mvn -Pbench test` against a release build of the library).
 */
@Tag("benchmark")
class BindingsBenchmark {
    private fun measure(name: String, iterations: Int, body: () -> Unit) {
        repeat(iterations / 10 + 1) { body() } // warm-up (JIT, caches)
        val times = LongArray(iterations) {
            val start = System.nanoTime()
            body()
            System.nanoTime() - start
        }.sorted()
        println("BENCH $name: median %.1f µs, p95 %.1f µs over $iterations calls"
            .format(times[iterations / 2] / 1000.0, times[iterations * 95 / 100] / 1000.0))
    }

    @Test
    fun `codes for 100 accounts and a 1080p frame`() {
        val dir = Files.createTempDirectory("countersign-bench").toFile()
        Authenticator.create(File(dir, "bench.vault").path, "bench passphrase", KdfStrength.MINIMUM, null).use { auth ->
            repeat(100) { i ->
                val secret = "JBSWY3DPEHPK3PXP" + "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"[i % 32] + "A".repeat(15)
                auth.addFromUri("otpauth://totp/Bench:user$i?secret=$secret&issuer=Bench", emptyList())
            }
            var time = 1_700_000_000UL
            measure("codes for 100 accounts (one call)", 2000) {
                check(auth.codesAt(time++).size == 100)
            }
            val (width, height) = 1920 to 1080
            // A registration QR from a real server, drawn into a 1920×1080 frame.
            val png = BankServer().use { bank ->
                val user = field(bank.call("POST", "/protected/json/users/new", mapOf(
                    "user[email]" to "b@example.com", "user[cellphone]" to "7700900999", "user[country_code]" to "44",
                )), "id")!!
                val registration = bank.call("POST", "/protected/json/users/$user/registrations")
                java.util.Base64.getDecoder().decode(field(registration, "qr_code")!!.removePrefix("data:image/png;base64,"))
            }
            val image = javax.imageio.ImageIO.read(java.io.ByteArrayInputStream(png))
            val frame = ByteBuffer.allocateDirect(width * height)
            for (i in 0 until width * height) frame.put(i, 180.toByte())
            for (y in 0 until image.height) for (x in 0 until image.width) {
                frame.put((400 + y) * width + 800 + x, (image.getRGB(x, y) and 0xff).toByte())
            }
            check(auth.scanFrame(frame, width.toUInt(), height.toUInt(), width.toUInt()).size == 1)
            measure("scanFrame 1920×1080 with a code", 200) {
                auth.scanFrame(frame, width.toUInt(), height.toUInt(), width.toUInt())
            }
            // Without a code: every full-resolution stage runs (the worst case).
            val empty = ByteBuffer.allocateDirect(width * height)
            for (i in 0 until width * height) empty.put(i, ((i * 31 + i / width * 7) % 200 + 30).toByte())
            measure("scanFrame 1920×1080, no code", 60) {
                auth.scanFrame(empty, width.toUInt(), height.toUInt(), width.toUInt())
            }
        }
        dir.deleteRecursively()
    }
}
