package dev.vane.server;

import org.openqa.selenium.By;
import org.openqa.selenium.JavascriptExecutor;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeDriverService;
import org.openqa.selenium.chrome.ChromeOptions;
import org.openqa.selenium.logging.LogEntry;
import org.openqa.selenium.logging.LogType;

import java.io.File;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.BooleanSupplier;
import java.util.logging.Level;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * Debian's Chromium, headless, driven through its chromedriver (both from apt: {@code chromium chromium-driver}),
 * for tests of the web playground in a real browser. Tests are skipped, not failed, where either is missing; CI
 * installs both ({@code .ci/run}). Nothing is downloaded: the driver and browser are given by path, so Selenium
 * Manager never looks for them online.
 *
 * <pre>{@code
 * try (Browser browser = Browser.start(downloads)) {
 *     browser.open("http://127.0.0.1:" + port + "/");
 *     browser.consoleErrors();           // what the page logged as errors since the last call
 * }
 * }</pre>
 */
final class Browser implements AutoCloseable {
    final ChromeDriver driver;

    private Browser(ChromeDriver driver) {
        this.driver = driver;
    }

    /** The first of {@code names} found on the PATH. */
    static Optional<Path> onPath(String... names) {
        for (String dir : System.getenv().getOrDefault("PATH", "").split(File.pathSeparator)) {
            for (String name : names) {
                Path p = Path.of(dir, name);
                if (Files.isExecutable(p)) return Optional.of(p);
            }
        }
        return Optional.empty();
    }

    /** Starts a headless Chromium that saves downloads into {@code downloads}; skips the test without one. */
    static Browser start(Path downloads) {
        Optional<Path> chromium = onPath("chromium", "chromium-browser", "google-chrome");
        Optional<Path> chromedriver = onPath("chromedriver");
        assumeTrue(chromium.isPresent() && chromedriver.isPresent(),
                "needs chromium and chromedriver on the PATH (Debian: apt-get install chromium chromium-driver)");
        // Selenium's own logging (java.util.logging) is chatter on a passing run.
        java.util.logging.Logger.getLogger("org.openqa.selenium").setLevel(Level.WARNING);
        ChromeOptions options = new ChromeOptions();
        options.setBinary(chromium.get().toFile());
        // --no-sandbox: containers and root need it. The rest keep the browser itself off the network, so that
        // any request seen is the page's.
        options.addArguments("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--window-size=1400,900", "--hide-scrollbars", "--no-first-run", "--disable-extensions",
                "--disable-background-networking", "--disable-component-update", "--disable-sync",
                "--disable-default-apps", "--disable-features=Translate,OptimizationHints,MediaRouter");
        options.setCapability("goog:loggingPrefs", Map.of(LogType.BROWSER, "ALL"));
        options.setExperimentalOption("prefs", Map.of("download.default_directory", downloads.toAbsolutePath().toString(),
                "download.prompt_for_download", false));
        ChromeDriverService service = new ChromeDriverService.Builder()
                .usingDriverExecutable(chromedriver.get().toFile()).usingAnyFreePort().build();
        ChromeDriver driver = new ChromeDriver(service, options);
        driver.manage().timeouts().scriptTimeout(Duration.ofSeconds(30));
        return new Browser(driver);
    }

    /** Opens {@code url} and waits until the page says it is ready or shows its key form or an error. */
    void open(String url) {
        driver.get(url);
        waitUntil(Duration.ofSeconds(20), "the playground to load", () -> "true".equals(script(
                "return document.documentElement.dataset.ready"
                        + " || String(!document.getElementById('key-form').hidden)"
                        + " || String(!document.getElementById('error').hidden)")));
    }

    /** The console messages of level error (SEVERE) logged since the last call: script errors, CSP violations. */
    List<String> consoleErrors() {
        List<String> out = new ArrayList<>();
        for (LogEntry e : driver.manage().logs().get(LogType.BROWSER)) {
            if (e.getLevel().intValue() >= Level.SEVERE.intValue()) out.add(e.getMessage());
        }
        return out;
    }

    /** Every URL the page loaded or fetched that is not on its own origin (navigation and resources). */
    @SuppressWarnings("unchecked")
    List<String> outsideRequests() {
        return (List<String>) script("return performance.getEntries()"
                + ".filter(e => e.entryType === 'navigation' || e.entryType === 'resource')"
                + ".map(e => e.name).filter(n => !n.startsWith(location.origin + '/'))");
    }

    Object script(String js, Object... args) {
        return ((JavascriptExecutor) driver).executeScript(js, args);
    }

    WebElement find(String css) {
        return driver.findElement(By.cssSelector(css));
    }

    List<WebElement> all(String css) {
        return driver.findElements(By.cssSelector(css));
    }

    /** Polls {@code condition} every 50 ms; fails naming {@code what} after {@code timeout}. */
    static void waitUntil(Duration timeout, String what, BooleanSupplier condition) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) throw new AssertionError("timed out after " + timeout + " waiting for " + what);
            try {
                Thread.sleep(50);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new AssertionError("interrupted waiting for " + what);
            }
        }
    }

    /** The PNG of the browser's window, written to {@code file}. */
    void screenshot(Path file) {
        try {
            Files.createDirectories(file.toAbsolutePath().getParent());
            Files.write(file, driver.getScreenshotAs(org.openqa.selenium.OutputType.BYTES));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @Override
    public void close() {
        driver.quit();
    }
}
