package io.qwenaudio.app;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.qwenaudio.testing.TinyModel;
import io.qwenaudio.testing.TinyModelResource;
import io.qwenaudio.testtools.ExternalTool;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.common.http.TestHTTPResource;
import io.quarkus.test.junit.QuarkusTest;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.openqa.selenium.By;
import org.openqa.selenium.JavascriptExecutor;
import org.openqa.selenium.OutputType;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeDriverService;
import org.openqa.selenium.chrome.ChromeOptions;
import org.openqa.selenium.support.ui.Select;
import org.openqa.selenium.support.ui.WebDriverWait;

import java.io.IOException;
import java.net.URI;
import java.net.URL;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The playground page in a real browser: headless Debian Chromium driven by Selenium through the system
 * chromedriver (nothing downloaded), against the running app on the tiny model. It uploads espeak-ng speech, asks
 * a question, waits for the streamed answer, checks that every diagnostics panel drew something (canvas pixels) and
 * that the stage timings appear, picks an adapter and sees the gate plot and attention maps, compares two clips,
 * asks with a raw prompt, records from a fake microphone, and sends a file that is not audio to see the API's
 * message. Screenshots go to {@code target/playground/}.
 *
 * <p>Without Chromium the browser test is skipped, except when {@code CI=true}, where it fails.
 */
@QuarkusTest
@QuarkusTestResource(value = TinyModelResource.class, restrictToAnnotatedClass = true)
class PlaygroundTest {

    static final ObjectMapper JSON = new ObjectMapper();
    static final Path SHOTS = Path.of("target", "playground").toAbsolutePath();
    static final Duration WAIT = Duration.ofSeconds(180);
    static final String QUESTION = "What does the person say?";

    static ChromeDriver driver;
    static Path profile;

    @TestHTTPResource("/")
    URL base;

    // ---- the API the page relies on ----

    String chatBody(byte[] audio, boolean stream, int maxTokens, String environment) throws IOException {
        Map<String, Object> body = new HashMap<>(Map.of("max_tokens", maxTokens, "temperature", 0, "repetition_penalty", 1.0,
                "stream", stream, "messages", List.of(Map.of("role", "user", "content", List.of(
                        Map.of("type", "input_audio", "input_audio", Map.of("data", Base64.getEncoder().encodeToString(audio),
                                "format", "wav")),
                        Map.of("type", "text", "text", QUESTION))))));
        if (environment != null) body.put("environment", environment);
        return JSON.writeValueAsString(body);
    }

    HttpResponse<String> chat(String body) throws Exception {
        HttpRequest r = HttpRequest.newBuilder(URI.create(base.toString()).resolve("v1/chat/completions"))
                .header("content-type", "application/json").timeout(Duration.ofSeconds(120))
                .POST(HttpRequest.BodyPublishers.ofString(body)).build();
        return HttpClient.newHttpClient().send(r, HttpResponse.BodyHandlers.ofString());
    }

    static final List<String> TIMINGS = List.of("decode_ms", "features_ms", "encode_ms", "adapt_ms", "project_ms",
            "prefill_ms", "generate_ms", "decode_tokens_per_second");

    @Test
    void chatAnswersCarryTheStageTimings() throws Exception {
        byte[] speech = speech("The quick brown fox jumps over the lazy dog.");
        HttpResponse<String> whole = chat(chatBody(speech, false, 6, TinyModel.LDV));
        assertEquals(200, whole.statusCode(), whole.body());
        JsonNode t = JSON.readTree(whole.body()).get("timings");
        assertNotNull(t, whole.body());
        for (String k : TIMINGS) assertTrue(t.has(k) && t.get(k).isNumber(), k + " missing from " + t);
        assertTrue(t.get("encode_ms").asDouble() > 0 && t.get("prefill_ms").asDouble() > 0
                && t.get("generate_ms").asDouble() >= t.get("prefill_ms").asDouble(), t.toString());

        HttpResponse<String> streamed = chat(chatBody(speech, true, 6, null));
        assertEquals(200, streamed.statusCode(), streamed.body());
        List<JsonNode> chunks = new ArrayList<>();
        for (String line : streamed.body().split("\n")) {
            if (line.startsWith("data: {")) chunks.add(JSON.readTree(line.substring(6)));
        }
        JsonNode last = chunks.stream().filter(c -> !c.at("/choices/0/finish_reason").isMissingNode()
                && !c.at("/choices/0/finish_reason").isNull()).findFirst().orElseThrow();
        for (String k : TIMINGS) assertTrue(last.at("/timings").has(k), k + " missing from " + last);
        assertEquals(0, chunks.stream().filter(c -> c != last && c.has("timings")).count(), "timings only in the last chunk");
    }

    // ---- the page in Chromium ----

    static byte[] speech(String text) {
        byte[] wav = TinyModel.speechWav(text);
        assertNotNull(wav, "espeak-ng is needed for the speech clip (apt-get install espeak-ng)");
        return wav;
    }

    /** Headless system Chromium through the system chromedriver; skipped without them unless CI=true. */
    static ChromeDriver browser() throws IOException {
        if (driver != null) return driver;
        Path chromium = Stream.of("/usr/bin/chromium", "/usr/bin/chromium-browser").map(Path::of)
                .filter(Files::isExecutable).findFirst().orElse(null);
        Path chromedriver = Path.of("/usr/bin/chromedriver");
        if (chromium == null || !Files.isExecutable(chromedriver)) {
            ExternalTool.CHROMIUM.missing("no executable /usr/bin/chromium (or chromium-browser) and /usr/bin/chromedriver");
        }
        profile = Files.createTempDirectory("playground-chromium");
        ChromeOptions o = new ChromeOptions();
        o.setBinary(chromium.toFile());
        o.addArguments("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                "--disable-background-networking", "--disable-component-update", "--disable-sync",
                "--user-data-dir=" + profile, "--window-size=1400,2600",
                // a fake microphone (a beeping tone) that needs no permission prompt, for the recording path
                "--use-fake-device-for-media-stream", "--use-fake-ui-for-media-stream");
        ChromeDriverService service = new ChromeDriverService.Builder().usingDriverExecutable(chromedriver.toFile())
                .usingAnyFreePort().build();
        driver = new ChromeDriver(service, o);
        driver.manage().timeouts().scriptTimeout(Duration.ofSeconds(30));
        return driver;
    }

    @AfterAll
    static void quit() throws IOException {
        if (driver != null) driver.quit();
        if (profile != null) {
            try (Stream<Path> s = Files.walk(profile)) {
                s.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
            }
        }
    }

    /** Painted pixels (alpha > 0) and distinct colours of a canvas. */
    @SuppressWarnings("unchecked")
    static long[] pixels(WebElement canvas) {
        List<Number> r = (List<Number>) ((JavascriptExecutor) driver).executeScript(
                "const c = arguments[0]; const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;"
                        + "let n = 0; const colours = new Set();"
                        + "for (let i = 0; i < d.length; i += 4) { if (d[i + 3] > 0) { n++;"
                        + "  if (colours.size < 5000) colours.add((d[i] << 16) | (d[i + 1] << 8) | d[i + 2]); } }"
                        + "return [n, colours.size, c.width * c.height];", canvas);
        return new long[] {r.get(0).longValue(), r.get(1).longValue(), r.get(2).longValue()};
    }

    static void assertDrawn(String id) {
        long[] p = pixels(driver.findElement(By.id(id)));
        assertTrue(p[0] >= 200, "canvas #" + id + " drew " + p[0] + " pixels");
    }

    /** A heat map covers its canvas with many colours. */
    static void assertMap(WebElement canvas, String what) {
        long[] p = pixels(canvas);
        assertTrue(p[0] > p[2] / 2 && p[1] >= 8, what + ": " + p[0] + " of " + p[2] + " pixels, " + p[1] + " colours");
    }

    static void assertBlank(String id) {
        assertEquals(0, pixels(driver.findElement(By.id(id)))[0], "canvas #" + id + " should be empty");
    }

    static String text(String id) {
        return driver.findElement(By.id(id)).getText();
    }

    static void ask(WebDriverWait wait) {
        driver.findElement(By.id("ask")).click();
        wait.until(d -> "true".equals(d.findElement(By.id("answer")).getDomAttribute("data-done"))
                || d.findElement(By.id("error")).isDisplayed());
        wait.until(d -> !"pending".equals(d.findElement(By.id("results")).getDomAttribute("data-diagnostics")));
        wait.until(d -> d.findElement(By.id("ask")).isEnabled());
    }

    static void upload(Path file, WebDriverWait wait) {
        driver.findElement(By.id("file")).sendKeys(file.toString());
        String name = file.getFileName().toString();
        wait.until(d -> d.findElement(By.id("clip-info")).getText().startsWith(name));
    }

    static void screenshot(String name) throws IOException {
        Files.createDirectories(SHOTS);
        Files.copy(driver.getScreenshotAs(OutputType.FILE).toPath(), SHOTS.resolve(name), StandardCopyOption.REPLACE_EXISTING);
    }

    @Test
    void thePageAnswersAndShowsEveryStage() throws Exception {
        browser();
        Files.createDirectories(SHOTS);
        Path fox = Files.write(SHOTS.resolve("fox.wav"), speech("The quick brown fox jumps over the lazy dog."));
        Path lunch = Files.write(SHOTS.resolve("lunch.wav"), speech("Please call me back after lunch."));
        Path notes = Files.writeString(SHOTS.resolve("notes.txt"), "meeting notes, not a recording\n");
        WebDriverWait wait = new WebDriverWait(driver, WAIT);

        driver.get(base.toString());
        assertEquals("qwen-audio playground", driver.getTitle());
        wait.until(d -> "true".equals(d.findElement(By.id("environment")).getDomAttribute("data-loaded")));
        List<String> envs = new Select(driver.findElement(By.id("environment"))).getOptions().stream()
                .map(WebElement::getText).collect(Collectors.toList());
        assertEquals(List.of("none", TinyModel.LDV, TinyModel.PIEZO), envs);

        // 1. a clip and a question, no adapter: the answer streams in, every panel but the adapter's draws
        upload(fox, wait);
        WebElement max = driver.findElement(By.id("max-tokens"));
        max.clear();
        max.sendKeys("8");
        ask(wait);
        assertFalse(driver.findElement(By.id("error")).isDisplayed(), "unexpected error: " + text("error"));
        String answer = driver.findElement(By.id("answer")).getDomProperty("textContent");
        JsonNode whole = JSON.readTree(chat(chatBody(Files.readAllBytes(fox), false, 8, null)).body());
        assertEquals(whole.at("/choices/0/message/content").asText().strip(), answer.strip(),
                "the streamed answer is the API's answer");
        assertFalse(answer.isBlank(), "no answer text");
        int chunks = Integer.parseInt(driver.findElement(By.id("answer")).getDomAttribute("data-chunks"));
        assertTrue(chunks >= 2, "the answer came in " + chunks + " piece(s); it should stream token by token");
        assertTrue(text("finish").contains("finish reason: " + whole.at("/choices/0/finish_reason").asText()), text("finish"));
        assertTrue(text("usage").contains(whole.at("/usage/completion_tokens").asInt() + " completion"), text("usage"));
        assertDrawn("timings");
        for (String id : List.of("mel", "encoder", "hidden-map")) assertMap(driver.findElement(By.id(id)), id);
        for (String id : List.of("token-norms", "hidden-norms", "embedding", "similarity")) assertDrawn(id);
        assertBlank("gate");
        assertTrue(text("adapter-note").contains("pick an environment"), text("adapter-note"));
        screenshot("1-answer.png");

        // 2. with an adapter: its gate, relative change and every attention map
        new Select(driver.findElement(By.id("environment"))).selectByValue(TinyModel.LDV);
        ask(wait);
        assertFalse(driver.findElement(By.id("error")).isDisplayed(), "unexpected error: " + text("error"));
        assertDrawn("gate");
        assertDrawn("change");
        assertTrue(text("adapter-note").startsWith(TinyModel.LDV + ": gate mean"), text("adapter-note"));
        List<WebElement> maps = driver.findElements(By.cssSelector("#attention canvas"));
        assertEquals(4, maps.size(), "1 layer x 4 heads of the tiny adapter");
        for (WebElement m : maps) assertMap(m, "attention map " + m.getDomAttribute("title"));
        screenshot("2-adapter.png");

        // 3. a second clip: the similarity matrix compares the clips tried in the page
        upload(lunch, wait);
        ask(wait);
        assertFalse(driver.findElement(By.id("error")).isDisplayed(), "unexpected error: " + text("error"));
        assertTrue(text("embedding-note").contains("2 clip(s) compared"), text("embedding-note"));
        assertDrawn("similarity");
        screenshot("3-two-clips.png");

        // 4. a raw prompt: answered whole by /v1/audio/describe, the same answer the API gives
        driver.findElement(By.cssSelector("input[name=mode][value=raw]")).click();
        String raw = driver.findElement(By.id("raw-prompt")).getDomProperty("value");
        assertTrue(raw.contains("<|AUDIO|>"), raw);
        ask(wait);
        assertFalse(driver.findElement(By.id("error")).isDisplayed(), "unexpected error: " + text("error"));
        String described = io.restassured.RestAssured.given().baseUri(base.toString()).contentType("application/octet-stream")
                .body(Files.readAllBytes(lunch)).queryParam("raw_prompt", raw).queryParam("environment", TinyModel.LDV)
                .queryParam("greedy", true).queryParam("max_new_tokens", 8).post("v1/audio/describe").then().statusCode(200)
                .extract().jsonPath().getString("text");
        assertEquals(described, driver.findElement(By.id("answer")).getDomProperty("textContent"));
        assertDrawn("timings");
        assertDrawn("hidden-norms");
        driver.findElement(By.cssSelector("input[name=mode][value=chat]")).click();

        // 5. a recording from the (fake) microphone, converted to WAV in the page
        driver.findElement(By.id("record")).click();
        wait.until(d -> d.findElement(By.id("record")).getText().equals("Stop"));
        Thread.sleep(2500);
        driver.findElement(By.id("record")).click();
        wait.until(d -> d.findElement(By.id("clip-info")).getText().startsWith("recording-")
                || d.findElement(By.id("error")).isDisplayed());
        assertFalse(driver.findElement(By.id("error")).isDisplayed(), "recording failed: " + text("error"));
        assertTrue(text("clip-info").contains("WAV"), text("clip-info"));
        ask(wait);
        assertFalse(driver.findElement(By.id("error")).isDisplayed(), "unexpected error: " + text("error"));
        assertTrue(text("mel-note").startsWith("1 window(s)"), text("mel-note"));
        assertTrue(text("embedding-note").contains("3 clip(s) compared"), text("embedding-note"));
        screenshot("5-recording.png");

        // 6. not audio: the API's own message in the page
        upload(notes, wait);
        ask(wait);
        WebElement error = driver.findElement(By.id("error"));
        assertTrue(error.isDisplayed(), "no error shown for a text file");
        HttpResponse<String> api = chat(chatBody(Files.readAllBytes(notes), true, 8, TinyModel.LDV));
        String message = JSON.readTree(api.body()).at("/error/message").asText();
        assertFalse(message.isEmpty(), api.body());
        assertTrue(error.getText().contains(message), "page shows '" + error.getText() + "', the API says '" + message + "'");
        screenshot("6-error.png");
    }
}
