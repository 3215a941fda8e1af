using System.Net;
using System.Net.Http.Headers;
using SegServe.Api.FunctionalTests.Infrastructure;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.Processing;

namespace SegServe.Api.FunctionalTests;

/// <summary>Bad input gets a clear 4xx problem+json that names what was wrong: never a 500, a hang or a crash.</summary>
public sealed class RequestValidationTests(SegServeFactory factory) : IClassFixture<SegServeFactory>
{
    private const string Segment = "/v1/models/espnetv2-voc/segment";
    private readonly HttpClient _client = factory.CreateClient();

    /// <summary>
    /// Every odd file of shared/data/odd, with the status the README documents for it under the default formats (GIF and
    /// TIFF are opt-in: 415; <see cref="OptInFormatsTests"/> decodes them where they are accepted).
    /// </summary>
    public static TheoryData<string, int> OddFiles => new()
    {
        { "truncated.jpg", 400 },
        { "no_time_for_that_tiny.gif", 415 },
        { "chessboard_GRAY_U16.tif", 415 },
        { "palette_color.png", 200 },
        { "green_palette.png", 200 },
        { "multipage_rgb.tif", 415 },
    };

    [Theory]
    [MemberData(nameof(OddFiles))]
    public async Task OddFiles_GetTheDocumentedStatus(string file, int status)
    {
        string path = SharedData.PathOf($"data/odd/{file}");
        using HttpResponseMessage response = await _client.PostImageAsync(Segment, path);
        if (status == 200)
        {
            Assert.True(response.IsSuccessStatusCode, await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken));
        }
        else if (status == 415)
        {
            ProblemBody problem = await response.ProblemAsync(status);
            Assert.EndsWith("is not accepted here; accepted: JPEG, PNG, WebP (Inference:Images:Formats).", problem.Detail, StringComparison.Ordinal);
        }
        else
        {
            ProblemBody problem = await response.ProblemAsync(status);
            Assert.Contains("truncated", problem.Detail, StringComparison.OrdinalIgnoreCase);
        }
    }

    [Fact]
    public void EveryOddFileIsCovered()
    {
        var covered = new HashSet<string>();
        foreach (TheoryDataRow<string, int> row in OddFiles)
        {
            covered.Add(row.Data.Item1);
        }

        foreach (string file in Directory.GetFiles(SharedData.PathOf("data/odd")))
        {
            Assert.Contains(Path.GetFileName(file), covered);
        }
    }

    [Fact]
    public async Task NotAnImage_Returns415()
    {
        SharedData.Require();
        using var form = HttpHelpers.ImageForm("hello, I am text"u8.ToArray(), "notes.txt");
        using HttpResponseMessage response = await _client.PostAsync(Segment, form, TestContext.Current.CancellationToken);
        ProblemBody problem = await response.ProblemAsync(415);
        Assert.Contains("not an image", problem.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task EmptyFile_Returns400()
    {
        SharedData.Require();
        using var form = HttpHelpers.ImageForm([], "empty.png");
        using HttpResponseMessage response = await _client.PostAsync(Segment, form, TestContext.Current.CancellationToken);
        ProblemBody problem = await response.ProblemAsync(400);
        Assert.Contains("empty", problem.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task MissingImageField_Returns400NamingTheField()
    {
        SharedData.Require();
        using var form = HttpHelpers.ImageForm(File.ReadAllBytes(SharedData.PathOf("data/photos/coffee.png")), "coffee.png", field: "picture");
        using HttpResponseMessage response = await _client.PostAsync(Segment, form, TestContext.Current.CancellationToken);
        ProblemBody problem = await response.ProblemAsync(400);
        Assert.Contains("'image'", problem.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task WrongContentType_Returns415()
    {
        SharedData.Require();
        using var content = new ByteArrayContent(File.ReadAllBytes(SharedData.PathOf("data/photos/coffee.png")));
        content.Headers.ContentType = new MediaTypeHeaderValue("image/png");
        using HttpResponseMessage response = await _client.PostAsync(Segment, content, TestContext.Current.CancellationToken);
        ProblemBody problem = await response.ProblemAsync(415);
        Assert.Contains("multipart/form-data", problem.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task MalformedMultipart_Returns400()
    {
        SharedData.Require();
        using var content = new StringContent("--xyz\r\nContent-Disposition: form-data; name=\"image\"; filename=\"a.png\"\r\n\r\nabc");
        content.Headers.ContentType = MediaTypeHeaderValue.Parse("multipart/form-data; boundary=xyz");
        using HttpResponseMessage response = await _client.PostAsync(Segment, content, TestContext.Current.CancellationToken);
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        await response.ProblemAsync(400);
    }

    [Theory]
    [InlineData("?upsample=lanczos", "upsample")]
    [InlineData("?threshold=1.5", "threshold")]
    [InlineData("?threshold=abc", "threshold")]
    [InlineData("?include=everything", "include")]
    public async Task BadQueryParameters_Return400NamingTheParameter(string query, string parameter)
    {
        string path = SharedData.PathOf("data/photos/coffee.png");
        using HttpResponseMessage response = await _client.PostImageAsync(Segment + query, path);
        ProblemBody problem = await response.ProblemAsync(400);
        Assert.Equal(parameter, problem.Parameter);
        Assert.Contains(parameter, problem.Detail, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("?alpha=2", "alpha")]
    [InlineData("?outline=maybe", "outline")]
    [InlineData("?format=gif", "format")]
    public async Task BadOverlayParameters_Return400(string query, string parameter)
    {
        string path = SharedData.PathOf("data/photos/coffee.png");
        using HttpResponseMessage response = await _client.PostImageAsync("/v1/models/espnetv2-voc/overlay" + query, path);
        ProblemBody problem = await response.ProblemAsync(400);
        Assert.Equal(parameter, problem.Parameter);
    }

    [Fact]
    public async Task UnacceptableAccept_Returns406()
    {
        string path = SharedData.PathOf("data/photos/coffee.png");
        using HttpResponseMessage response = await _client.PostImageAsync(Segment, path, accept: "text/html");
        await response.ProblemAsync(406);
    }

    [Fact]
    public async Task UnknownModel_Returns404()
    {
        string path = SharedData.PathOf("data/photos/coffee.png");
        using HttpResponseMessage response = await _client.PostImageAsync("/v1/models/nope/segment", path);
        await response.ProblemAsync(404);
    }

    [Fact]
    public async Task FailedModel_Returns503WithTheReason()
    {
        string path = SharedData.PathOf("data/photos/coffee.png");
        using HttpResponseMessage response = await _client.PostImageAsync("/v1/models/broken-manifest/segment", path);
        ProblemBody problem = await response.ProblemAsync(503);
        Assert.Contains("model.json is invalid", problem.Detail, StringComparison.Ordinal);
    }
}

/// <summary>The byte and pixel limits, lowered so that real photos break them.</summary>
public sealed class LimitsTests(SmallLimitsFactory factory) : IClassFixture<SmallLimitsFactory>
{
    private readonly HttpClient _client = factory.CreateClient();

    [Fact]
    public async Task TooManyBytes_Returns413NamingTheLimit()
    {
        // coffee.png is ~450 kB; the limit here is 200 kB.
        string path = SharedData.PathOf("data/photos/coffee.png");
        using HttpResponseMessage response = await _client.PostImageAsync("/v1/models/espnetv2-voc/segment", path);
        ProblemBody problem = await response.ProblemAsync(413);
        Assert.Contains(SmallLimitsFactory.MaxBytes.ToString(System.Globalization.CultureInfo.InvariantCulture), problem.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task TooManyPixels_Returns413FromTheHeader()
    {
        // rocket.jpg is 640×427 = 273,280 pixels in ~60 kB; the limit here is 100,000 pixels.
        string path = SharedData.PathOf("data/photos/rocket.jpg");
        using HttpResponseMessage response = await _client.PostImageAsync("/v1/models/espnetv2-voc/segment", path);
        ProblemBody problem = await response.ProblemAsync(413);
        Assert.Contains("640×427", problem.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task WithinLimits_Succeeds()
    {
        // chelsea.png is 451×300 = 135,300 pixels: over the pixel limit, so use a smaller crop of it.
        string path = SharedData.PathOf("data/photos/chelsea.png");
        using Image image = Image.Load(path);
        image.Mutate(x => x.Crop(300, 300));
        using var stream = new MemoryStream();
        image.SaveAsPng(stream);
        using var form = HttpHelpers.ImageForm(stream.ToArray(), "crop.png");
        using HttpResponseMessage response = await _client.PostAsync("/v1/models/espnetv2-voc/segment", form, TestContext.Current.CancellationToken);
        Assert.True(response.IsSuccessStatusCode, await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken));
    }
}
