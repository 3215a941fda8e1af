using Microsoft.Playwright;
using SegServe.Tests.Shared;

namespace SegServe.Api.FunctionalTests.Browser;

/// <summary>The page against a service that requires API keys: it loads, says a key is needed, and works with one.</summary>
public sealed class WebPageKeyTests(KeyedBrowserHostFactory factory) : IClassFixture<KeyedBrowserHostFactory>
{
    [Fact]
    public async Task WithKeysRequired_PageAsksForOne_AndWorksWithIt()
    {
        using var client = new HttpClient { BaseAddress = factory.Address };
        using HttpResponseMessage page0 = await client.GetAsync("/", TestContext.Current.CancellationToken);
        Assert.True(page0.IsSuccessStatusCode, "the page itself must load without a key");

        await using Chromium chromium = await Chromium.LaunchAsync();
        IPage page = await chromium.NewPageAsync(factory.Address);
        await page.GotoAsync("/");
        await Assertions.Expect(page.Locator("#error")).ToBeVisibleAsync();
        await Assertions.Expect(page.Locator("#error-detail")).ToContainTextAsync("X-Api-Key");
        await page.ScreenshotAsync(new() { Path = Path.Combine(Chromium.ScreenshotFolder, "key-required.png"), FullPage = true });

        await page.Locator("#api-key").FillAsync(KeyedBrowserHostFactory.Key);
        await page.Locator("#api-key").PressAsync("Enter");
        await page.Locator("#api-key").BlurAsync();
        await Assertions.Expect(page.Locator("body")).ToHaveAttributeAsync("data-models", "loaded");
        await Assertions.Expect(page.Locator("#error")).ToBeHiddenAsync();
        await page.SelectOptionAsync("#model", "selfie");
        await page.SetInputFilesAsync("#image", Repository.PathOf("docs/examples/camera.png"));
        await Assertions.Expect(page.Locator("#overlay")).ToHaveAttributeAsync("data-ready", "true", new() { Timeout = 45_000 });
        await Assertions.Expect(page.Locator("#legend li")).Not.ToHaveCountAsync(0);
    }
}
