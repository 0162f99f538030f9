package app.countersign.jvm

import java.io.File
import java.net.ServerSocket
import java.net.Socket
import java.net.URI
import java.net.URLEncoder
import java.net.http.HttpClient
import java.net.http.HttpRequest
import java.net.http.HttpResponse
import java.nio.file.Files

/** A real countersign-server on a free loopback port with a fresh SQLite database. */
class BankServer : AutoCloseable {
    private val binary = System.getProperty("countersign.server")
        ?: error("the countersign.server system property names the server binary")
    private val dir: File = Files.createTempDirectory("countersign-jvm").toFile()
    private val port = ServerSocket(0).use { it.localPort }
    val baseUrl = "http://127.0.0.1:$port"
    val apiKey: String
    private val process: Process
    private val http = HttpClient.newHttpClient()

    init {
        val created = run("app", "create", "--name", "JVM Bank", "--json")
        apiKey = field(created, "api_key") ?: error("no api key in $created")
        process = command("--listen", "127.0.0.1:$port").redirectErrorStream(true)
            .redirectOutput(File(dir, "server.log")).start()
        val deadline = System.nanoTime() + 15_000_000_000
        while (true) {
            try {
                Socket("127.0.0.1", port).close()
                break
            } catch (e: java.io.IOException) {
                check(System.nanoTime() < deadline) { "the server did not start" }
                Thread.sleep(20)
            }
        }
    }

    private fun command(vararg args: String): ProcessBuilder =
        ProcessBuilder(listOf(binary) + args).also {
            it.environment()["COUNTERSIGN_DATABASE_URL"] = "sqlite:${File(dir, "bank.db")}"
            it.environment()["COUNTERSIGN_PUBLIC_URL"] = baseUrl
            it.environment()["RUST_LOG"] = "warn"
        }

    private fun run(vararg args: String): String {
        val process = command(*args).redirectErrorStream(true).start()
        val out = process.inputStream.bufferedReader().readText()
        check(process.waitFor() == 0) { "countersign-server ${args.joinToString(" ")}: $out" }
        return out
    }

    /** An Authy API call with the app's key; returns the JSON body. */
    fun call(method: String, path: String, form: Map<String, String> = emptyMap()): String {
        val encoded = form.entries.joinToString("&") {
            URLEncoder.encode(it.key, Charsets.UTF_8) + "=" + URLEncoder.encode(it.value, Charsets.UTF_8)
        }
        val builder = HttpRequest.newBuilder()
            .header("X-Authy-API-Key", apiKey)
        val request = if (method == "GET") {
            builder.uri(URI.create("$baseUrl$path" + if (encoded.isEmpty()) "" else "?$encoded")).GET()
        } else {
            builder.uri(URI.create("$baseUrl$path"))
                .header("Content-Type", "application/x-www-form-urlencoded")
                .POST(HttpRequest.BodyPublishers.ofString(encoded))
        }
        return http.send(request.build(), HttpResponse.BodyHandlers.ofString()).body()
    }

    override fun close() {
        process.destroy()
        process.waitFor()
        dir.deleteRecursively()
    }
}

/** One scalar field of a JSON text (string, number or boolean), found by name. */
fun field(json: String, name: String): String? {
    val match = Regex("\"" + Regex.escape(name) + "\"\\s*:\\s*(\"([^\"\\\\]*+(?:\\\\.[^\"\\\\]*+)*+)\"|-?[0-9]+|true|false)")
        .find(json) ?: return null
    return match.groups[2]?.value ?: match.groups[1]?.value
}
