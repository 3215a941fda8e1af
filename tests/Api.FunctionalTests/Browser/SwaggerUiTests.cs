using System.Text.Json;
using Microsoft.Playwright;
using SegServe.Tests.Shared;

namespace SegServe.Api.FunctionalTests.Browser;

/// <summary>Swagger UI at <c>/swagger</c>, in a real headless Chromium against the real service: Try it out uploads a photo.</summary>
public sealed class SwaggerUiTests(BrowserHostFactory factory) : IClassFixture<BrowserHostFactory>
{
    [Fact]
    public async Task TryItOut_SegmentUploadsAPhoto_AndShowsTheSegmentation()
    {
        await using Chromium chromium = await Chromium.LaunchAsync();
        IPage page = await chromium.NewPageAsync(factory.Address);
        await page.GotoAsync("/swagger");

        // Expand the segment operation and switch it to Try it out.
        ILocator operation = page.Locator("#operations-Segmentation-Segment");
        await Assertions.Expect(operation).ToBeVisibleAsync(new() { Timeout = 30_000 });
        await operation.Locator(".opblock-summary").First.ClickAsync();
        await operation.Locator("button.try-out__btn").ClickAsync();

        // The model name, the photo, and JSON as the response type (the document offers JSON and PNG).
        await operation.Locator("tr[data-param-name='name'] input").FillAsync("selfie");
        await operation.Locator("input[type='file']").First.SetInputFilesAsync(Repository.PathOf("docs/examples/astronaut.jpg"));
        ILocator accept = operation.Locator(".responses-wrapper select").First;
        string[] offered = [.. (await accept.Locator("option").AllTextContentsAsync()).Select(static o => o.Trim())];
        Assert.Contains("application/json", offered);
        Assert.Contains("image/png", offered);
        await accept.SelectOptionAsync("application/json");
        await operation.Locator("button.execute").ClickAsync();

        // The live response: 200 with the segmentation's fields.
        ILocator live = operation.Locator(".live-responses-table .response");
        await Assertions.Expect(live.Locator(".response-col_status").First).ToHaveTextAsync("200", new() { Timeout = 60_000 });
        string body = (await live.Locator(".response-col_description pre").First.TextContentAsync())!;
        await page.ScreenshotAsync(new() { Path = Path.Combine(Chromium.ScreenshotFolder, "swagger-try-it-out.png"), FullPage = true });
        using JsonDocument segmentation = JsonDocument.Parse(body);
        JsonElement root = segmentation.RootElement;
        Assert.Equal("selfie", root.GetProperty("model").GetString());
        Assert.Equal("image/png", root.GetProperty("classMap").GetProperty("mediaType").GetString());
        Assert.Contains(root.GetProperty("classes").EnumerateArray(), static c => c.GetProperty("name").GetString() == "person");
        Assert.True(root.GetProperty("width").GetInt32() > 0 && root.GetProperty("height").GetInt32() > 0);
    }
}
