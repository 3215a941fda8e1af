using Microsoft.AspNetCore.Hosting;
using Microsoft.Playwright;
using SegServe.Api.FunctionalTests.Infrastructure;
using SegServe.Api.FunctionalTests.Telemetry;
using SegServe.Tests.Shared;

namespace SegServe.Api.FunctionalTests.Browser;

/// <summary>
/// The service on a real loopback port for a real browser: the repository's <c>selfie</c> model, and the CamVid
/// and Mask R-CNN fixtures of <c>../shared</c> when it is there (the Evaluate and instance tests need them; the Segment tab's does not).
/// </summary>
public sealed class BrowserHostFactory : KestrelFactory
{
    private readonly DirectoryInfo _models = Directory.CreateTempSubdirectory("segserve-browser-models-");

    public BrowserHostFactory()
    {
        File.CreateSymbolicLink(Path.Combine(_models.FullName, "selfie"), Repository.PathOf("models/selfie"));
        if (SharedData.Root is string shared)
        {
            foreach (string name in new[] { "espnet-camvid", "maskrcnn-small" })
            {
                string directory = Directory.CreateDirectory(Path.Combine(_models.FullName, name)).FullName;
                File.Copy(Path.Combine(AppContext.BaseDirectory, "TestModels", name, "model.json"), Path.Combine(directory, "model.json"));
                File.CreateSymbolicLink(Path.Combine(directory, "model.onnx"), Path.Combine(shared, "fixtures", SegServeFactory.SharedModels[name]));
            }
        }
    }

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        base.ConfigureWebHost(builder);
        builder.UseSetting("Inference:ModelsDirectory", _models.FullName);
    }

    protected override void Dispose(bool disposing)
    {
        base.Dispose(disposing);
        if (disposing)
        {
            try
            {
                _models.Delete(recursive: true);
            }
            catch (IOException)
            {
                // A temp folder left behind is harmless.
            }
        }
    }
}

/// <summary>The repository's models on a real port behind an API key: no anonymous access.</summary>
public sealed class KeyedBrowserHostFactory : KestrelFactory
{
    public const string Key = "page-user-secret-key";

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        base.ConfigureWebHost(builder);
        builder.UseSetting("Authentication:AllowAnonymous", "false");
        builder.UseSetting("Authentication:ApiKeys:0:Name", "page-user");
        builder.UseSetting("Authentication:ApiKeys:0:Sha256", Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(Key))));
        builder.UseSetting("Authentication:ApiKeys:0:Roles:0", "user");
    }
}

/// <summary>
/// Debian's chromium, headless, driven by Playwright for .NET (Playwright's own browser download is not used, so no
/// network is needed). Skips the test when the browser is not installed.
/// </summary>
public sealed class Chromium : IAsyncDisposable
{
    /// <summary>The browser's path: <c>SEGSERVE_CHROMIUM</c>, else Debian's.</summary>
    public static string ExecutablePath => Environment.GetEnvironmentVariable("SEGSERVE_CHROMIUM") is { Length: > 0 } path ? path : "/usr/bin/chromium";

    /// <summary>Where the tests' screenshots go: <c>screenshots/</c> in the test output.</summary>
    public static string ScreenshotFolder => Directory.CreateDirectory(Path.Combine(AppContext.BaseDirectory, "screenshots")).FullName;

    private readonly IPlaywright _playwright;

    private Chromium(IPlaywright playwright, IBrowser browser)
    {
        _playwright = playwright;
        Browser = browser;
    }

    public IBrowser Browser { get; }

    public static async Task<Chromium> LaunchAsync()
    {
        if (!File.Exists(ExecutablePath))
        {
            Assert.Skip($"No chromium at {ExecutablePath}: install Debian's package (apt-get install -y --no-install-recommends chromium), or set SEGSERVE_CHROMIUM to a Chromium binary. Skipping the browser test.");
        }

        // Expectations wait for the page (a slow CI machine), but never as long as a test may run.
        Assertions.SetDefaultExpectTimeout(15_000);
        IPlaywright playwright = await Playwright.CreateAsync();
        try
        {
            IBrowser browser = await playwright.Chromium.LaunchAsync(new()
            {
                ExecutablePath = ExecutablePath,
                Headless = true,
                Timeout = 30_000,
                Args = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic"],
            });
            return new Chromium(playwright, browser);
        }
        catch
        {
            playwright.Dispose();
            throw;
        }
    }

    /// <summary>A fresh page (own storage) with explicit timeouts, so that a broken page fails the test instead of hanging it.</summary>
    public async Task<IPage> NewPageAsync(Uri address, int width = 1280, int height = 900)
    {
        IBrowserContext context = await Browser.NewContextAsync(new() { BaseURL = address.ToString(), ViewportSize = new() { Width = width, Height = height } });
        context.SetDefaultTimeout(30_000);
        context.SetDefaultNavigationTimeout(30_000);
        return await context.NewPageAsync();
    }

    public async ValueTask DisposeAsync()
    {
        await Browser.DisposeAsync();
        _playwright.Dispose();
    }
}
