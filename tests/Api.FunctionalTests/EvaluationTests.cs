using System.Buffers.Binary;
using System.IO.Compression;
using System.IO.Hashing;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using Microsoft.AspNetCore.Mvc.Testing;
using SegServe.Api.FunctionalTests.Infrastructure;
using SegServe.Contracts;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.Formats.Png;
using SixLabors.ImageSharp.PixelFormats;

namespace SegServe.Api.FunctionalTests;

/// <summary>The evaluation endpoints with label maps made on the spot (needs nothing from shared/).</summary>
public sealed class EvaluationTests(SegServeFactory factory) : IClassFixture<SegServeFactory>
{
    private static readonly int[] s_textbookTruth =
    [
        0, 0, 0, 0,
        0, 1, 1, 0,
        0, 1, 1, 0,
        0, 0, 0, 0,
    ];

    private static readonly int[] s_textbookPrediction =
    [
        0, 0, 0, 0,
        0, 1, 0, 0,
        0, 1, 1, 0,
        0, 0, 0, 0,
    ];

    private static readonly string[] s_names = ["bg", "fg"];

    private readonly HttpClient _client = factory.CreateClient();

    internal static byte[] GreyPng(int width, int height, int[] labels, bool sixteenBit = false)
    {
        using var stream = new MemoryStream();
        if (sixteenBit)
        {
            using var image = new Image<L16>(width, height);
            for (int i = 0; i < labels.Length; i++)
            {
                image[i % width, i / width] = new L16((ushort)labels[i]);
            }

            image.Save(stream, new PngEncoder { ColorType = PngColorType.Grayscale, BitDepth = PngBitDepth.Bit16 });
        }
        else
        {
            using var image = new Image<L8>(width, height);
            for (int i = 0; i < labels.Length; i++)
            {
                image[i % width, i / width] = new L8((byte)labels[i]);
            }

            image.Save(stream, new PngEncoder { ColorType = PngColorType.Grayscale, BitDepth = PngBitDepth.Bit8 });
        }

        return stream.ToArray();
    }

    /// <summary>A palette PNG written byte by byte, so that the indices are exactly the labels (encoders re-quantise).</summary>
    internal static byte[] PalettePng(int width, int height, int[] labels, Rgb24[] palette)
    {
        using var idat = new MemoryStream();
        using (var zlib = new ZLibStream(idat, CompressionLevel.Optimal, leaveOpen: true))
        {
            for (int y = 0; y < height; y++)
            {
                zlib.WriteByte(0);
                for (int x = 0; x < width; x++)
                {
                    zlib.WriteByte((byte)labels[(y * width) + x]);
                }
            }
        }

        var png = new MemoryStream();
        png.Write([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]);
        byte[] header = new byte[13];
        BinaryPrimitives.WriteInt32BigEndian(header, width);
        BinaryPrimitives.WriteInt32BigEndian(header.AsSpan(4), height);
        header[8] = 8;
        header[9] = 3;
        Chunk(png, "IHDR", header);
        byte[] plte = new byte[palette.Length * 3];
        for (int i = 0; i < palette.Length; i++)
        {
            (plte[3 * i], plte[(3 * i) + 1], plte[(3 * i) + 2]) = (palette[i].R, palette[i].G, palette[i].B);
        }

        Chunk(png, "PLTE", plte);
        Chunk(png, "IDAT", idat.ToArray());
        Chunk(png, "IEND", []);
        return png.ToArray();

        static void Chunk(Stream stream, string type, byte[] data)
        {
            byte[] length = new byte[4];
            BinaryPrimitives.WriteInt32BigEndian(length, data.Length);
            stream.Write(length);
            byte[] typeBytes = System.Text.Encoding.ASCII.GetBytes(type);
            stream.Write(typeBytes);
            stream.Write(data);
            var crc = new Crc32();
            crc.Append(typeBytes);
            crc.Append(data);
            byte[] sum = new byte[4];
            BinaryPrimitives.WriteUInt32BigEndian(sum, crc.GetCurrentHashAsUInt32());
            stream.Write(sum);
        }
    }

    internal static MultipartFormDataContent Pair(byte[] prediction, byte[] truth, string predictionField = "prediction")
    {
        var content = new MultipartFormDataContent();
        var p = new ByteArrayContent(prediction);
        p.Headers.ContentType = new MediaTypeHeaderValue("image/png");
        content.Add(p, predictionField, "prediction.png");
        var t = new ByteArrayContent(truth);
        t.Headers.ContentType = new MediaTypeHeaderValue("image/png");
        content.Add(t, "groundTruth", "truth.png");
        return content;
    }

    private async Task<SemanticScoresResponse> EvaluateAsync(string query, MultipartFormDataContent content)
    {
        using HttpResponseMessage response = await _client.PostAsync("/v1/evaluate/semantic" + query, content, TestContext.Current.CancellationToken);
        string body = await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken);
        Assert.True(response.IsSuccessStatusCode, $"{(int)response.StatusCode}: {body}");
        return System.Text.Json.JsonSerializer.Deserialize<SemanticScoresResponse>(body, HttpHelpers.Json)!;
    }

    [Fact]
    public async Task Textbook_CentreSquareWithOneMissedPixel()
    {
        using MultipartFormDataContent content = Pair(GreyPng(4, 4, s_textbookPrediction), GreyPng(4, 4, s_textbookTruth));

        SemanticScoresResponse scores = await EvaluateAsync("?numClasses=2&classNames=background,foreground", content);

        Assert.Equal(15.0 / 16, scores.PixelAccuracy);
        Assert.Equal(0.75, scores.Classes[1].Iou);
        Assert.Equal("foreground", scores.Classes[1].Name);
        Assert.Equal(16, scores.Pixels);
        Assert.Equal([[12L, 0L], [1L, 3L]], scores.ConfusionMatrix.Select(r => r.ToArray()).ToArray());
    }

    [Fact]
    public async Task SixteenBitPaletteAndColourCodedLabelMaps_GiveTheSameScores()
    {
        Rgb24[] voc = [new(0, 0, 0), new(128, 0, 0)];
        using MultipartFormDataContent grey = Pair(GreyPng(4, 4, s_textbookPrediction, sixteenBit: true), GreyPng(4, 4, s_textbookTruth));
        using MultipartFormDataContent palette = Pair(GreyPng(4, 4, s_textbookPrediction), PalettePng(4, 4, s_textbookTruth, voc));
        using var rgbImage = new Image<Rgb24>(4, 4);
        for (int i = 0; i < 16; i++)
        {
            rgbImage[i % 4, i / 4] = voc[s_textbookTruth[i]];
        }

        using var rgb = new MemoryStream();
        rgbImage.SaveAsPng(rgb);
        using MultipartFormDataContent colourCoded = Pair(GreyPng(4, 4, s_textbookPrediction), rgb.ToArray());

        SemanticScoresResponse a = await EvaluateAsync("?numClasses=2", grey);
        SemanticScoresResponse b = await EvaluateAsync("?numClasses=2", palette);
        SemanticScoresResponse c = await EvaluateAsync("?numClasses=2&palette=voc", colourCoded);

        Assert.Equal(0.75, a.Classes[1].Iou);
        Assert.Equal(a.MeanIou, b.MeanIou);
        Assert.Equal(a.MeanIou, c.MeanIou);
        Assert.Equal(a.MeanBoundaryIou, c.MeanBoundaryIou);
    }

    [Theory]
    [InlineData("", "numClasses")]
    [InlineData("?numClasses=0", "numClasses")]
    [InlineData("?numClasses=2&ignoreIndex=-1", "ignoreIndex")]
    [InlineData("?numClasses=2&classNames=a,b,c", "classNames")]
    [InlineData("?numClasses=2&palette=red,blue", "palette")]
    [InlineData("?model=nope", "nope")]
    public async Task BadParameters_AreNamed(string query, string named)
    {
        using MultipartFormDataContent content = Pair(GreyPng(4, 4, s_textbookPrediction), GreyPng(4, 4, s_textbookTruth));
        using HttpResponseMessage response = await _client.PostAsync("/v1/evaluate/semantic" + query, content, TestContext.Current.CancellationToken);
        Assert.True(response.StatusCode is HttpStatusCode.BadRequest or HttpStatusCode.NotFound, response.StatusCode.ToString());
        ProblemBody problem = await response.ProblemAsync((int)response.StatusCode);
        Assert.Contains(named, problem.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task SizeMismatch_Is422NamingTheSizes()
    {
        using MultipartFormDataContent content = Pair(GreyPng(2, 8, new int[16]), GreyPng(4, 4, s_textbookTruth));
        using HttpResponseMessage response = await _client.PostAsync("/v1/evaluate/semantic?numClasses=2", content, TestContext.Current.CancellationToken);
        ProblemBody problem = await response.ProblemAsync(422);
        Assert.Contains("2×8", problem.Detail, StringComparison.Ordinal);
        Assert.Contains("4×4", problem.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task LabelOutsideTheClasses_Is422NamingTheValue()
    {
        int[] truth = (int[])s_textbookTruth.Clone();
        truth[3] = 7;
        using MultipartFormDataContent content = Pair(GreyPng(4, 4, s_textbookPrediction), GreyPng(4, 4, truth));
        using HttpResponseMessage response = await _client.PostAsync("/v1/evaluate/semantic?numClasses=2", content, TestContext.Current.CancellationToken);
        ProblemBody problem = await response.ProblemAsync(422);
        Assert.Contains("label 7 at pixel (3, 0)", problem.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ColourNotInThePalette_Is422NamingTheColour()
    {
        using var image = new Image<Rgb24>(2, 2, new Rgb24(1, 2, 3));
        using var stream = new MemoryStream();
        image.SaveAsPng(stream);
        using MultipartFormDataContent content = Pair(GreyPng(2, 2, new int[4]), stream.ToArray());
        using HttpResponseMessage response = await _client.PostAsync("/v1/evaluate/semantic?numClasses=2&palette=voc", content, TestContext.Current.CancellationToken);
        ProblemBody problem = await response.ProblemAsync(422);
        Assert.Contains("#010203", problem.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ColourCodedWithoutPalette_Is400()
    {
        using var image = new Image<Rgb24>(2, 2, new Rgb24(1, 2, 3));
        using var stream = new MemoryStream();
        image.SaveAsPng(stream);
        using MultipartFormDataContent content = Pair(GreyPng(2, 2, new int[4]), stream.ToArray());
        using HttpResponseMessage response = await _client.PostAsync("/v1/evaluate/semantic?numClasses=2", content, TestContext.Current.CancellationToken);
        ProblemBody problem = await response.ProblemAsync(422);
        Assert.Contains("palette", problem.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task NotAPng_Is400_AndMissingGroundTruthIs400()
    {
        using MultipartFormDataContent notPng = Pair("not an image"u8.ToArray(), GreyPng(4, 4, s_textbookTruth));
        using HttpResponseMessage response = await _client.PostAsync("/v1/evaluate/semantic?numClasses=2", notPng, TestContext.Current.CancellationToken);
        ProblemBody problem = await response.ProblemAsync(400);
        Assert.Contains("prediction", problem.Detail, StringComparison.Ordinal);

        using var onlyPrediction = new MultipartFormDataContent { { new ByteArrayContent(GreyPng(4, 4, s_textbookPrediction)), "prediction", "p.png" } };
        using HttpResponseMessage missing = await _client.PostAsync("/v1/evaluate/semantic?numClasses=2", onlyPrediction, TestContext.Current.CancellationToken);
        ProblemBody missingProblem = await missing.ProblemAsync(400);
        Assert.Contains("groundTruth", missingProblem.Detail, StringComparison.Ordinal);
    }

    private async Task<EvaluationRunResponse> CreateRunAsync(object body)
    {
        using HttpResponseMessage response = await _client.PostAsJsonAsync("/v1/evaluations", body, TestContext.Current.CancellationToken);
        string text = await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken);
        Assert.True(response.StatusCode == HttpStatusCode.Created, text);
        Assert.NotNull(response.Headers.Location);
        return System.Text.Json.JsonSerializer.Deserialize<EvaluationRunResponse>(text, HttpHelpers.Json)!;
    }

    [Fact]
    public async Task Run_SumsSamplesBeforeDividing_AndTakesConcurrentUploads()
    {
        EvaluationRunResponse run = await CreateRunAsync(new { task = "semantic", numClasses = 2, classNames = s_names });

        // 16 uploads at once: 8 textbook pairs and 8 perfect ones.
        await Task.WhenAll(Enumerable.Range(0, 16).Select(async i =>
        {
            using MultipartFormDataContent content = Pair(GreyPng(4, 4, i % 2 == 0 ? s_textbookPrediction : s_textbookTruth), GreyPng(4, 4, s_textbookTruth));
            using HttpResponseMessage response = await _client.PostAsync($"/v1/evaluations/{run.Id}/samples?name=s{i:00}", content, TestContext.Current.CancellationToken);
            Assert.True(response.IsSuccessStatusCode, await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken));
        }));

        EvaluationRunResponse result = (await _client.GetJsonAsync<EvaluationRunResponse>($"/v1/evaluations/{run.Id}"))!;
        Assert.Equal(16, result.SampleCount);
        Assert.Equal(16, result.Samples.Count);
        // Foreground over all samples: intersection 8·3 + 8·4 = 56, union 8·4 + 8·4 = 64.
        Assert.Equal(56.0 / 64, result.Scores!.Classes[1].Iou!.Value, 12);
        Assert.Equal(1 - (8.0 / 256), result.Scores.PixelAccuracy!.Value, 12);
        Assert.Contains(result.Samples, s => s.Name == "s00" && s.MeanIou < 1);
        Assert.Contains(result.Samples, s => s.Name == "s01" && s.MeanIou == 1);
    }

    [Fact]
    public async Task Run_TakesAZipOfPairsMatchedByName_AllOrNothing()
    {
        EvaluationRunResponse run = await CreateRunAsync(new { task = "semantic", numClasses = 2 });
        byte[] Zip(bool withStray)
        {
            using var stream = new MemoryStream();
            using (var zip = new ZipArchive(stream, ZipArchiveMode.Create, leaveOpen: true))
            {
                void Add(string name, byte[] bytes)
                {
                    using Stream entry = zip.CreateEntry(name).Open();
                    entry.Write(bytes);
                }

                Add("groundTruth/a.png", GreyPng(4, 4, s_textbookTruth));
                Add("prediction/a.png", GreyPng(4, 4, s_textbookPrediction));
                Add("groundTruth/b.png", GreyPng(4, 4, s_textbookTruth));
                Add("prediction/b.png", GreyPng(4, 4, s_textbookTruth));
                if (withStray)
                {
                    Add("groundTruth/c.png", GreyPng(4, 4, s_textbookTruth));
                }
            }

            return stream.ToArray();
        }

        using (var bad = new MultipartFormDataContent { { new ByteArrayContent(Zip(withStray: true)), "archive", "pairs.zip" } })
        using (HttpResponseMessage rejected = await _client.PostAsync($"/v1/evaluations/{run.Id}/samples", bad, TestContext.Current.CancellationToken))
        {
            ProblemBody problem = await rejected.ProblemAsync(422);
            Assert.Contains("c", problem.Detail, StringComparison.Ordinal);
        }

        using var good = new MultipartFormDataContent { { new ByteArrayContent(Zip(withStray: false)), "archive", "pairs.zip" } };
        using HttpResponseMessage accepted = await _client.PostAsync($"/v1/evaluations/{run.Id}/samples", good, TestContext.Current.CancellationToken);
        SamplesAddedResponse added = (await accepted.Content.ReadFromJsonAsync<SamplesAddedResponse>(TestContext.Current.CancellationToken))!;
        Assert.Equal(["a", "b"], added.Added.Select(s => s.Name));
        Assert.Equal(2, added.SampleCount);

        using HttpResponseMessage report = await _client.GetAsync($"/v1/evaluations/{run.Id}/report.png", TestContext.Current.CancellationToken);
        Assert.Equal("image/png", report.Content.Headers.ContentType?.MediaType);
        using Image picture = Image.Load(await report.Content.ReadAsByteArrayAsync(TestContext.Current.CancellationToken));
        Assert.True(picture.Width >= 640);
    }

    [Fact]
    public async Task Run_UnknownOrEmpty_AndBadRequests()
    {
        using HttpResponseMessage missing = await _client.GetAsync("/v1/evaluations/nope", TestContext.Current.CancellationToken);
        await missing.ProblemAsync(404);

        EvaluationRunResponse run = await CreateRunAsync(new { task = "semantic", numClasses = 3 });
        using HttpResponseMessage empty = await _client.GetAsync($"/v1/evaluations/{run.Id}/report.png", TestContext.Current.CancellationToken);
        await empty.ProblemAsync(409);

        using HttpResponseMessage instances = await _client.PostAsJsonAsync("/v1/evaluations", new { task = "panoptic", numClasses = 3 }, TestContext.Current.CancellationToken);
        ProblemBody problem = await instances.ProblemAsync(400);
        Assert.Contains("panoptic", problem.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task CreateRun_BadBodies_Are400NamingTheProblem()
    {
        using var notJson = new StringContent("{not json", System.Text.Encoding.UTF8, "application/json");
        using HttpResponseMessage broken = await _client.PostAsync("/v1/evaluations", notJson, TestContext.Current.CancellationToken);
        ProblemBody brokenProblem = await broken.ProblemAsync(400);
        Assert.Contains("valid JSON", brokenProblem.Detail, StringComparison.Ordinal);

        using HttpResponseMessage missing = await _client.PostAsJsonAsync("/v1/evaluations", new { task = "semantic" }, TestContext.Current.CancellationToken);
        ProblemBody missingProblem = await missing.ProblemAsync(400);
        Assert.Contains("numClasses is required", missingProblem.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Run_SurvivesARestart()
    {
        EvaluationRunResponse run = await CreateRunAsync(new { task = "semantic", numClasses = 2 });
        using (MultipartFormDataContent content = Pair(GreyPng(4, 4, s_textbookPrediction), GreyPng(4, 4, s_textbookTruth)))
        using (HttpResponseMessage response = await _client.PostAsync($"/v1/evaluations/{run.Id}/samples", content, TestContext.Current.CancellationToken))
        {
            Assert.True(response.IsSuccessStatusCode);
        }

        // A second service over the same database file: what was accepted is still there.
        using WebApplicationFactory<Program> restarted = factory.WithWebHostBuilder(b => b.UseSetting("Evaluation:DatabasePath", factory.DatabasePath));
        HttpClient client = restarted.CreateClient();
        EvaluationRunResponse again = (await client.GetJsonAsync<EvaluationRunResponse>($"/v1/evaluations/{run.Id}"))!;
        Assert.Equal(1, again.SampleCount);
        Assert.Equal(0.75, again.Scores!.Classes[1].Iou);
    }
}

/// <summary>The reference check: ESPNet on the CamVid validation frames, scored by an evaluation run with the model.</summary>
public sealed class CamVidEvaluationTests(SegServeFactory factory) : IClassFixture<SegServeFactory>
{
    private readonly HttpClient _client = factory.CreateClient();

    [Fact]
    public async Task EspnetOnCamVid_ReproducesTheReferenceFigures()
    {
        string images = SharedData.PathOf("data/camvid-val/images");
        string annotations = SharedData.PathOf("data/camvid-val/annotations");
        using HttpResponseMessage created = await _client.PostAsJsonAsync(
            "/v1/evaluations",
            new { task = "semantic", numClasses = 11, ignoreIndex = 11, model = "espnet-camvid" },
            TestContext.Current.CancellationToken);
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        EvaluationRunResponse run = (await created.Content.ReadFromJsonAsync<EvaluationRunResponse>(TestContext.Current.CancellationToken))!;

        string[] files = Directory.GetFiles(images, "*.png");
        Array.Sort(files, StringComparer.Ordinal);
        Assert.Equal(101, files.Length);
        using var gate = new SemaphoreSlim(4);
        await Task.WhenAll(files.Select(async file =>
        {
            await gate.WaitAsync(TestContext.Current.CancellationToken);
            try
            {
                using var content = new MultipartFormDataContent
                {
                    { new ByteArrayContent(await File.ReadAllBytesAsync(file, TestContext.Current.CancellationToken)), "image", Path.GetFileName(file) },
                    { new ByteArrayContent(await File.ReadAllBytesAsync(Path.Combine(annotations, Path.GetFileName(file)), TestContext.Current.CancellationToken)), "groundTruth", Path.GetFileName(file) },
                };
                using HttpResponseMessage response = await _client.PostAsync($"/v1/evaluations/{run.Id}/samples", content, TestContext.Current.CancellationToken);
                Assert.True(response.IsSuccessStatusCode, await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken));
            }
            finally
            {
                gate.Release();
            }
        }));

        EvaluationRunResponse result = (await _client.GetJsonAsync<EvaluationRunResponse>($"/v1/evaluations/{run.Id}"))!;
        Assert.Equal(101, result.SampleCount);
        SemanticScoresResponse scores = result.Scores!;
        TestContext.Current.TestOutputHelper?.WriteLine($"CamVid: mIoU {scores.MeanIou:0.0000}, aAcc {scores.PixelAccuracy:0.0000}, mBIoU {scores.MeanBoundaryIou:0.0000}");
        Assert.InRange(scores.MeanIou!.Value, 0.7010 - 0.002, 0.7010 + 0.002);
        Assert.InRange(scores.PixelAccuracy!.Value, 0.9268 - 0.002, 0.9268 + 0.002);
        // Per-class figures from the fixture README, to the three decimals it gives.
        double[] reference = [0.947, 0.845, 0.121, 0.968, 0.868, 0.907, 0.404, 0.709, 0.813, 0.428, 0.702];
        for (int c = 0; c < reference.Length; c++)
        {
            Assert.InRange(scores.Classes[c].Iou!.Value, reference[c] - 0.002, reference[c] + 0.002);
        }

        Assert.Equal("Sky", scores.Classes[0].Name);
    }
}
