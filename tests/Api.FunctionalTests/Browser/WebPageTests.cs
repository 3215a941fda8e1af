using System.Globalization;
using System.IO.Compression;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.Playwright;
using SegServe.Api.FunctionalTests.Infrastructure;
using SegServe.Contracts;
using SegServe.Tests.Shared;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;

namespace SegServe.Api.FunctionalTests.Browser;

/// <summary>The web page at <c>/</c>, in a real headless Chromium against the real service on a real port.</summary>
public sealed class WebPageTests(BrowserHostFactory factory) : IClassFixture<BrowserHostFactory>
{
    private const string Photo = "docs/examples/astronaut.jpg";

    [Fact]
    public async Task SegmentTab_SelfieOnAPhoto_ShowsPersonOverlayOpacityAndBlur()
    {
        await using Chromium chromium = await Chromium.LaunchAsync();
        IPage page = await chromium.NewPageAsync(factory.Address);
        await page.GotoAsync("/");
        await Assertions.Expect(page.Locator("body")).ToHaveAttributeAsync("data-models", "loaded");

        await page.SelectOptionAsync("#model", "selfie");
        await page.SetInputFilesAsync("#image", Repository.PathOf(Photo));
        await Assertions.Expect(page.Locator("#overlay")).ToHaveAttributeAsync("data-ready", "true", new() { Timeout = 45_000 });

        // The legend lists person with its share of the picture.
        ILocator person = page.Locator("#legend li[data-class='person']");
        await Assertions.Expect(person).ToContainTextAsync("person");
        double fraction = double.Parse((await person.GetAttributeAsync("data-fraction"))!, CultureInfo.InvariantCulture);
        Assert.InRange(fraction, 0.40, 0.65);
        Assert.Contains(((fraction * 100).ToString("0.0", CultureInfo.InvariantCulture)) + "%", await person.TextContentAsync(), StringComparison.Ordinal);
        Assert.False(string.IsNullOrEmpty(await page.Locator("#overlay").GetAttributeAsync("alt")));
        Assert.False(string.IsNullOrEmpty(await page.Locator("#original").GetAttributeAsync("alt")));
        await page.ScreenshotAsync(new() { Path = Path.Combine(Chromium.ScreenshotFolder, "segment-selfie.png"), FullPage = true });

        // The opacity slider blends the class colours over the photo: the picture itself changes.
        ILocator stack = page.Locator("#stack");
        byte[] half = await stack.ScreenshotAsync(new() { Path = Path.Combine(Chromium.ScreenshotFolder, "overlay-opacity-50.png") });
        await page.Locator("#opacity").FillAsync("1");
        await Assertions.Expect(page.Locator("#opacity-value")).ToHaveTextAsync("100%");
        byte[] full = await stack.ScreenshotAsync(new() { Path = Path.Combine(Chromium.ScreenshotFolder, "overlay-opacity-100.png") });
        Assert.True(MeanDifference(half, full) > 5, $"the overlay barely changed with the opacity slider (mean difference {MeanDifference(half, full):0.00})");

        // The blur effect: the service renders the portrait, the page shows it in place of the colours.
        await page.Locator("input[name='effect'][value='blur']").CheckAsync();
        await Assertions.Expect(page.Locator("#overlay")).ToHaveAttributeAsync("data-effect", "blur", new() { Timeout = 45_000 });
        await Assertions.Expect(page.Locator("#overlay")).ToHaveAttributeAsync("data-ready", "true", new() { Timeout = 45_000 });
        await Assertions.Expect(page.Locator("#radius-row")).ToBeVisibleAsync();
        byte[] blurred = await stack.ScreenshotAsync(new() { Path = Path.Combine(Chromium.ScreenshotFolder, "overlay-blur.png") });
        Assert.True(MeanDifference(full, blurred) > 5, "the blur effect did not change the picture");

        // Cutout on a checkerboard, then a replaced background.
        await page.Locator("input[name='effect'][value='cutout']").CheckAsync();
        await Assertions.Expect(page.Locator("#overlay")).ToHaveAttributeAsync("data-effect", "cutout", new() { Timeout = 45_000 });
        await Assertions.Expect(stack).ToHaveClassAsync(new System.Text.RegularExpressions.Regex("checker"));
        await stack.ScreenshotAsync(new() { Path = Path.Combine(Chromium.ScreenshotFolder, "overlay-cutout.png") });
        await page.Locator("input[name='effect'][value='replace']").CheckAsync();
        await Assertions.Expect(page.Locator("#overlay")).ToHaveAttributeAsync("data-effect", "replace", new() { Timeout = 45_000 });
        await Assertions.Expect(page.Locator("#background-row")).ToBeVisibleAsync();
        await stack.ScreenshotAsync(new() { Path = Path.Combine(Chromium.ScreenshotFolder, "overlay-replace.png") });

        await Assertions.Expect(page.Locator("#error")).ToBeHiddenAsync();
        await Assertions.Expect(page.Locator("#busy")).ToBeHiddenAsync();
        Assert.NotNull(await page.Locator("#download-classmap").GetAttributeAsync("href"));
        Assert.NotNull(await page.Locator("#download-json").GetAttributeAsync("href"));
    }

    [Fact]
    public async Task SegmentTab_TextFile_ShowsTheProblemTitleAndStopsTheSpinner()
    {
        byte[] text = "these are notes, not a picture\n"u8.ToArray();
        using var client = new HttpClient { BaseAddress = factory.Address };
        using var content = new MultipartFormDataContent { { new ByteArrayContent(text), "image", "notes.txt" } };
        using HttpResponseMessage refused = await client.PostAsync("/v1/models/selfie/segment", content, TestContext.Current.CancellationToken);
        Assert.False(refused.IsSuccessStatusCode);
        using JsonDocument problem = JsonDocument.Parse(await refused.Content.ReadAsStringAsync(TestContext.Current.CancellationToken));
        string title = problem.RootElement.GetProperty("title").GetString()!;
        string detail = problem.RootElement.GetProperty("detail").GetString()!;

        await using Chromium chromium = await Chromium.LaunchAsync();
        IPage page = await chromium.NewPageAsync(factory.Address);
        await page.GotoAsync("/");
        await Assertions.Expect(page.Locator("body")).ToHaveAttributeAsync("data-models", "loaded");
        await page.SelectOptionAsync("#model", "selfie");
        await page.SetInputFilesAsync("#image", new FilePayload { Name = "notes.txt", MimeType = "text/plain", Buffer = text });

        await Assertions.Expect(page.Locator("#error")).ToBeVisibleAsync();
        await Assertions.Expect(page.Locator("#error-title")).ToHaveTextAsync(title);
        await Assertions.Expect(page.Locator("#error-detail")).ToContainTextAsync(detail);
        await Assertions.Expect(page.Locator("#busy")).ToBeHiddenAsync();
        await page.ScreenshotAsync(new() { Path = Path.Combine(Chromium.ScreenshotFolder, "segment-error.png"), FullPage = true });

        // The error can be dismissed from the keyboard.
        await page.Locator("#error-close").FocusAsync();
        await page.Keyboard.PressAsync("Enter");
        await Assertions.Expect(page.Locator("#error")).ToBeHiddenAsync();
    }

    [Fact]
    public async Task Page_AtPhoneWidth_HasNoSidewaysScrolling()
    {
        await using Chromium chromium = await Chromium.LaunchAsync();
        IPage page = await chromium.NewPageAsync(factory.Address, width: 390, height: 844);
        await page.GotoAsync("/");
        await Assertions.Expect(page.Locator("body")).ToHaveAttributeAsync("data-models", "loaded");
        await page.SetInputFilesAsync("#image", Repository.PathOf(Photo));
        await Assertions.Expect(page.Locator("#overlay")).ToHaveAttributeAsync("data-ready", "true", new() { Timeout = 45_000 });
        await page.ScreenshotAsync(new() { Path = Path.Combine(Chromium.ScreenshotFolder, "segment-phone.png"), FullPage = true });
        Assert.True(await page.EvaluateAsync<bool>("() => document.documentElement.scrollWidth <= window.innerWidth"), "the page scrolls sideways at 390 px");

        // The tabs work from the keyboard.
        await page.Locator("#tab-segment").FocusAsync();
        await page.Keyboard.PressAsync("ArrowRight");
        await Assertions.Expect(page.Locator("#panel-evaluate")).ToBeVisibleAsync();
        await Assertions.Expect(page.Locator("#tab-evaluate")).ToBeFocusedAsync();
        await page.ScreenshotAsync(new() { Path = Path.Combine(Chromium.ScreenshotFolder, "evaluate-phone.png"), FullPage = true });
    }

    [Fact]
    public async Task SegmentTab_InstanceModel_HoverShowsClassAndScore_SliderFilters()
    {
        string photo = SharedData.PathOf("fixtures/formats/images/astronaut.png");
        using var client = new HttpClient { BaseAddress = factory.Address };
        using var content = new MultipartFormDataContent { { new ByteArrayContent(await File.ReadAllBytesAsync(photo, TestContext.Current.CancellationToken)), "image", "astronaut.png" } };
        using HttpResponseMessage response = await client.PostAsync("/v1/models/maskrcnn-small/segment?scoreThreshold=0.05", content, TestContext.Current.CancellationToken);
        InstanceSegmentationResponse expected = (await response.Content.ReadFromJsonAsync<InstanceSegmentationResponse>(TestContext.Current.CancellationToken))!;
        Assert.True(expected.Instances.Count(o => o.Score >= 0.5) > expected.Instances.Count(o => o.Score >= 0.9), "the fixture needs objects scored between 0.5 and 0.9");

        await using Chromium chromium = await Chromium.LaunchAsync();
        IPage page = await chromium.NewPageAsync(factory.Address);
        await page.GotoAsync("/");
        await Assertions.Expect(page.Locator("body")).ToHaveAttributeAsync("data-models", "loaded");
        await page.SelectOptionAsync("#model", "maskrcnn-small");
        await page.SetInputFilesAsync("#image", photo);
        await Assertions.Expect(page.Locator("#overlay")).ToHaveAttributeAsync("data-ready", "true", new() { Timeout = 45_000 });
        await Assertions.Expect(page.Locator("#score-row")).ToBeVisibleAsync();
        await Assertions.Expect(page.Locator("#effects")).ToBeHiddenAsync();

        ILocator shown = page.Locator("#boxes rect:not(.hidden)");
        await Assertions.Expect(shown).ToHaveCountAsync(expected.Instances.Count(o => o.Score >= 0.5));
        ILocator smallest = shown.Last;
        await smallest.HoverAsync();
        string className = (await smallest.GetAttributeAsync("data-class"))!;
        double score = double.Parse((await smallest.GetAttributeAsync("data-score"))!, CultureInfo.InvariantCulture);
        await Assertions.Expect(page.Locator("#tip")).ToBeVisibleAsync();
        await Assertions.Expect(page.Locator("#tip")).ToHaveTextAsync($"{className} {score.ToString("0.00", CultureInfo.InvariantCulture)}");
        Assert.Contains(expected.Instances, o => o.ClassName == className && Math.Abs(o.Score - score) < 1e-9);
        await page.ScreenshotAsync(new() { Path = Path.Combine(Chromium.ScreenshotFolder, "instances-hover.png"), FullPage = true });

        await page.Locator("#score").FillAsync("0.9");
        await Assertions.Expect(page.Locator("#score-value")).ToHaveTextAsync("0.90");
        await Assertions.Expect(shown).ToHaveCountAsync(expected.Instances.Count(o => o.Score >= 0.9));
        await Assertions.Expect(page.Locator("#overlay")).ToHaveAttributeAsync("data-ready", "true", new() { Timeout = 45_000 });
        await page.ScreenshotAsync(new() { Path = Path.Combine(Chromium.ScreenshotFolder, "instances-score-0.9.png"), FullPage = true });
    }

    [Fact]
    public async Task EvaluateTab_CamVidZip_ShowsTheApisMiou()
    {
        string images = SharedData.PathOf("data/camvid-val/images");
        string annotations = SharedData.PathOf("data/camvid-val/annotations");
        string zip = Path.Combine(Path.GetTempPath(), $"camvid-pairs-{Guid.NewGuid():N}.zip");
        try
        {
            string[] frames = [.. Directory.GetFiles(images, "*.png").Order(StringComparer.Ordinal).Take(3)];
            using (ZipArchive archive = ZipFile.Open(zip, ZipArchiveMode.Create))
            {
                foreach (string frame in frames)
                {
                    archive.CreateEntryFromFile(frame, $"images/{Path.GetFileName(frame)}");
                    archive.CreateEntryFromFile(Path.Combine(annotations, Path.GetFileName(frame)), $"groundTruth/{Path.GetFileName(frame)}");
                }
            }

            await using Chromium chromium = await Chromium.LaunchAsync();
            IPage page = await chromium.NewPageAsync(factory.Address);
            await page.GotoAsync("/#evaluate");
            await Assertions.Expect(page.Locator("body")).ToHaveAttributeAsync("data-models", "loaded");
            await page.SelectOptionAsync("#eval-model", "espnet-camvid");
            // As the reference CamVid setup: 11 classes, the model's 12th channel (void, label 11) ignored.
            await page.Locator("#num-classes").FillAsync("11");
            await page.Locator("#ignore-index").FillAsync("11");
            await page.SetInputFilesAsync("#archive", zip);
            await page.Locator("#run-start").ClickAsync();
            await Assertions.Expect(page.Locator("#run")).ToHaveAttributeAsync("data-ready", "true", new() { Timeout = 50_000 });
            await Assertions.Expect(page.Locator("#progress-text")).ToHaveTextAsync("3 / 3");
            await Assertions.Expect(page.Locator("#report")).ToHaveJSPropertyAsync("complete", true);
            Assert.True(await page.Locator("#report").EvaluateAsync<int>("img => img.naturalWidth") > 0, "the report picture did not load");
            await page.ScreenshotAsync(new() { Path = Path.Combine(Chromium.ScreenshotFolder, "evaluate-camvid.png"), FullPage = true });

            string id = (await page.Locator("#run-id").TextContentAsync())!;
            using var client = new HttpClient { BaseAddress = factory.Address };
            EvaluationRunResponse run = (await client.GetFromJsonAsync<EvaluationRunResponse>($"/v1/evaluations/{id}", TestContext.Current.CancellationToken))!;
            Assert.Equal(3, run.SampleCount);
            double apiMiou = run.Scores!.MeanIou!.Value;
            Assert.Equal(apiMiou, double.Parse((await page.Locator("#miou").GetAttributeAsync("data-value"))!, CultureInfo.InvariantCulture));
            Assert.Equal((apiMiou * 100).ToString("0.00", CultureInfo.InvariantCulture) + "%", await page.Locator("#miou").TextContentAsync());
            Assert.Equal(11, run.Scores.NumClasses);
            Assert.Equal(run.Scores.Classes.Count, await page.Locator("#class-table tbody tr").CountAsync());

            // The run is listed, and reopens after a reload (remembered by this browser).
            await page.ReloadAsync();
            await page.Locator($"#runs button:has-text('{id}')").ClickAsync();
            await Assertions.Expect(page.Locator("#run-id")).ToHaveTextAsync(id);
            await Assertions.Expect(page.Locator("#miou")).ToHaveTextAsync((apiMiou * 100).ToString("0.00", CultureInfo.InvariantCulture) + "%");
        }
        finally
        {
            File.Delete(zip);
        }
    }

    [Fact]
    public async Task EvaluateTab_FolderOfUploadedPredictions_SentPairByPair()
    {
        string annotations = SharedData.PathOf("data/camvid-val/annotations");
        DirectoryInfo folder = Directory.CreateTempSubdirectory("camvid-folder-");
        try
        {
            // Predictions equal to the ground truth: a perfect score, whatever the frames.
            string truths = Directory.CreateDirectory(Path.Combine(folder.FullName, "groundTruth")).FullName;
            string predictions = Directory.CreateDirectory(Path.Combine(folder.FullName, "prediction")).FullName;
            foreach (string file in Directory.GetFiles(annotations, "*.png").Order(StringComparer.Ordinal).Take(3))
            {
                File.Copy(file, Path.Combine(truths, Path.GetFileName(file)));
                File.Copy(file, Path.Combine(predictions, Path.GetFileName(file)));
            }

            await using Chromium chromium = await Chromium.LaunchAsync();
            IPage page = await chromium.NewPageAsync(factory.Address);
            await page.GotoAsync("/#evaluate");
            await Assertions.Expect(page.Locator("body")).ToHaveAttributeAsync("data-models", "loaded");
            await page.SelectOptionAsync("#eval-model", "");
            await page.Locator("#num-classes").FillAsync("11");
            await page.Locator("#ignore-index").FillAsync("11");
            await page.SetInputFilesAsync("#folder", folder.FullName);
            await page.Locator("#run-start").ClickAsync();
            await Assertions.Expect(page.Locator("#run")).ToHaveAttributeAsync("data-ready", "true", new() { Timeout = 45_000 });
            await Assertions.Expect(page.Locator("#progress-text")).ToHaveTextAsync("3 / 3");
            await Assertions.Expect(page.Locator("#sample-count")).ToHaveTextAsync("3");
            await Assertions.Expect(page.Locator("#miou")).ToHaveTextAsync("100.00%");
            await Assertions.Expect(page.Locator("#aacc")).ToHaveTextAsync("100.00%");
            await page.ScreenshotAsync(new() { Path = Path.Combine(Chromium.ScreenshotFolder, "evaluate-folder.png"), FullPage = true });
        }
        finally
        {
            folder.Delete(recursive: true);
        }
    }

    /// <summary>Mean absolute difference per channel (0–255) of two screenshots of the same element.</summary>
    private static double MeanDifference(byte[] first, byte[] second)
    {
        using Image<Rgb24> a = Image.Load<Rgb24>(first);
        using Image<Rgb24> b = Image.Load<Rgb24>(second);
        Assert.Equal((a.Width, a.Height), (b.Width, b.Height));
        long sum = 0;
        for (int y = 0; y < a.Height; y++)
        {
            for (int x = 0; x < a.Width; x++)
            {
                Rgb24 p = a[x, y];
                Rgb24 q = b[x, y];
                sum += Math.Abs(p.R - q.R) + Math.Abs(p.G - q.G) + Math.Abs(p.B - q.B);
            }
        }

        return sum / (3.0 * a.Width * a.Height);
    }
}
