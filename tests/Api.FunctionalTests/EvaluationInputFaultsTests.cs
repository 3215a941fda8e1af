using System.IO.Compression;
using System.Net;
using System.Net.Http.Json;
using System.Text;
using SegServe.Api.FunctionalTests.Infrastructure;
using SegServe.Contracts;

namespace SegServe.Api.FunctionalTests;

/// <summary>
/// A hostile client against the evaluation endpoints: crafted COCO JSON and zips that once grew memory without bound
/// or answered 500 are each a 4xx problem naming what is wrong, and the service goes on answering.
/// </summary>
public sealed class EvaluationInputFaultsTests(SegServeFactory factory) : IClassFixture<SegServeFactory>
{
    private const string Image = """{"id":1,"height":10,"width":10}""";
    private const string Square = """[[1,1,5,1,5,5,1,5]]""";
    private const string Detections = """[{"image_id":1,"category_id":1,"score":0.9,"segmentation":[[1,1,5,1,5,5,1,5]]}]""";
    private const string UnreadableFile = "urn:segserve:problem:unreadable-file";
    private const string CannotScore = "urn:segserve:problem:cannot-score";
    private const string InvalidArchive = "urn:segserve:problem:invalid-archive";

    private readonly HttpClient _client = factory.CreateClient();

    [Fact]
    public async Task PolygonMemoryBomb_Is422NamingTheAnnotation_AndTheServiceStillScores()
    {
        // An edge 3·10⁸ pixels long on a 10×10 image: traced point by point it took ~12 GB.
        string truth = Truth("""[{"id":9,"image_id":1,"category_id":1,"segmentation":[[0,0,0,-3e8,1,0]]}]""");

        using (HttpResponseMessage response = await PostAsync(Detections, truth))
        {
            ProblemBody problem = await response.ProblemAsync(422);
            Assert.Equal(CannotScore, problem.Type);
            Assert.Contains("groundTruth annotations[0].segmentation[0][3] = -300000000 is far outside the 10×10 image", problem.Detail, StringComparison.Ordinal);
        }

        // Within reach (2× the image's larger side) the polygon is clipped to the image and scored.
        string clipped = Truth("""[{"id":9,"image_id":1,"category_id":1,"segmentation":[[-20,-20,30,-20,30,30,-20,30]]}]""");
        using HttpResponseMessage scored = await PostAsync("""[{"image_id":1,"category_id":1,"score":0.9,"segmentation":{"size":[10,10],"counts":[0,100]}}]""", clipped);
        InstanceScoresResponse scores = (await scored.Content.ReadFromJsonAsync<InstanceScoresResponse>(HttpHelpers.Json, TestContext.Current.CancellationToken))!;
        Assert.Equal(HttpStatusCode.OK, scored.StatusCode);
        Assert.Equal(1.0, scores.Ap!.Value, 12);
    }

    public static TheoryData<string, string, int, string, string> Faults => new()
    {
        { "images is an object", """{"images":{},"annotations":[]}""", 400, UnreadableFile, "groundTruth images must be an array" },
        { "categories is a number", Truth("[]", categories: "5"), 400, UnreadableFile, "groundTruth categories must be an array" },
        { "negative height", """{"images":[{"id":1,"height":-10,"width":10}],"annotations":[]}""", 422, CannotScore, "groundTruth images[0].height = -10" },
        { "width 2^31", """{"images":[{"id":1,"height":10,"width":2147483648}],"annotations":[]}""", 422, CannotScore, "groundTruth images[0].width = 2147483648" },
        { "iscrowd 1e10", Truth($$"""[{"image_id":1,"category_id":1,"iscrowd":1e10,"segmentation":{{Square}}}]"""), 422, CannotScore, "groundTruth annotations[0].iscrowd" },
        { "id 1e30", Truth($$"""[{"id":1e30,"image_id":1,"category_id":1,"segmentation":{{Square}}}]"""), 422, CannotScore, "groundTruth annotations[0].id" },
        { "polygon x -1e9", Truth("""[{"image_id":1,"category_id":1,"segmentation":[[-1e9,0,5,5,0,5]]}]"""), 422, CannotScore, "groundTruth annotations[0].segmentation[0][0]" },
        { "RLE counts not covering h×w", Truth("""[{"image_id":1,"category_id":1,"segmentation":{"size":[10,10],"counts":[4294967295,4294967295]}}]"""), 422, CannotScore, "groundTruth annotations[0].segmentation cannot be read" },
        { "RLE of a huge size", Truth("""[{"image_id":1,"category_id":1,"segmentation":{"size":[2000000000,2000000000],"counts":"0"}}]"""), 422, CannotScore, "groundTruth annotations[0].segmentation: the mask is 2000000000×2000000000" },
    };

    [Theory]
    [MemberData(nameof(Faults))]
    public async Task GroundTruthFaults_Are4xxNamingTheJsonPath(string fault, string truth, int status, string type, string detail)
    {
        using HttpResponseMessage response = await PostAsync(Detections, truth);

        ProblemBody problem = await response.ProblemAsync(status);
        Assert.True(type == problem.Type, $"{fault}: {problem.Type}");
        Assert.Contains(detail, problem.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task PredictionsWithInstancesNotAnArray_Are400()
    {
        using HttpResponseMessage response = await PostAsync("""{"instances":{}}""", Truth("[]"));

        ProblemBody problem = await response.ProblemAsync(400);
        Assert.Equal(UnreadableFile, problem.Type);
        Assert.Contains("predictions instances must be an array, not an object", problem.Detail, StringComparison.Ordinal);
    }

    public static TheoryData<string, string> DamagedArchives => new()
    {
        { "crc", "fails its CRC-32 check" },
        { "encrypted", "is encrypted" },
        { "method", "cannot be decompressed" },
        { "deflate", "cannot be decompressed" },
    };

    [Theory]
    [MemberData(nameof(DamagedArchives))]
    public async Task DamagedArchiveEntries_Are400InvalidArchive_NamingTheEntry(string damage, string detail)
    {
        byte[] truth = EvaluationTests.GreyPng(2, 2, [0, 0, 1, 1]);
        byte[] zip = Zip(damage == "crc" || damage == "deflate" ? CompressionLevel.Optimal : CompressionLevel.NoCompression, ("groundTruth/a.png", truth), ("prediction/a.png", truth));
        switch (damage)
        {
            case "crc":
                Patch(zip, s_centralRecord, 1, 16, static (z, at) => z[at] ^= 0xff);
                Patch(zip, s_localHeader, 1, 14, static (z, at) => z[at] ^= 0xff);
                break;
            case "encrypted":
                Patch(zip, s_centralRecord, 1, 8, static (z, at) => z[at] |= 1);
                Patch(zip, s_localHeader, 1, 6, static (z, at) => z[at] |= 1);
                break;
            case "method":
                Patch(zip, s_centralRecord, 1, 10, static (z, at) => z[at] = 14);
                Patch(zip, s_localHeader, 1, 8, static (z, at) => z[at] = 14);
                break;
            default:
                Patch(zip, s_localHeader, 1, 30 + "prediction/a.png".Length, static (z, at) => z[at] = 0x07);
                break;
        }

        EvaluationRunResponse run = await CreateRunAsync();
        using var content = new MultipartFormDataContent { { new ByteArrayContent(zip), "archive", "pairs.zip" } };
        using HttpResponseMessage response = await _client.PostAsync($"/v1/evaluations/{run.Id}/samples", content, TestContext.Current.CancellationToken);

        ProblemBody problem = await response.ProblemAsync(400);
        Assert.Equal(InvalidArchive, problem.Type);
        Assert.Contains("'prediction/a.png'", problem.Detail, StringComparison.Ordinal);
        Assert.Contains(detail, problem.Detail, StringComparison.Ordinal);
        Assert.Equal(0, (await _client.GetFromJsonAsync<EvaluationRunResponse>($"/v1/evaluations/{run.Id}", HttpHelpers.Json, TestContext.Current.CancellationToken))!.SampleCount);
    }

    private static readonly byte[] s_localHeader = [0x50, 0x4b, 0x03, 0x04];
    private static readonly byte[] s_centralRecord = [0x50, 0x4b, 0x01, 0x02];

    private static string Truth(string annotations, string categories = """[{"id":1,"name":"one"}]""") =>
        $$"""{"images":[{{Image}}],"categories":{{categories}},"annotations":{{annotations}}}""";

    private async Task<HttpResponseMessage> PostAsync(string predictions, string groundTruth)
    {
        using var content = new MultipartFormDataContent
        {
            { new ByteArrayContent(Encoding.UTF8.GetBytes(predictions)), "predictions", "predictions.json" },
            { new ByteArrayContent(Encoding.UTF8.GetBytes(groundTruth)), "groundTruth", "truth.json" },
        };
        return await _client.PostAsync("/v1/evaluate/instances", content, TestContext.Current.CancellationToken);
    }

    private async Task<EvaluationRunResponse> CreateRunAsync()
    {
        using HttpResponseMessage response = await _client.PostAsJsonAsync("/v1/evaluations", new { task = "semantic", numClasses = 2 }, TestContext.Current.CancellationToken);
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        return (await response.Content.ReadFromJsonAsync<EvaluationRunResponse>(HttpHelpers.Json, TestContext.Current.CancellationToken))!;
    }

    private static byte[] Zip(CompressionLevel level, params (string Name, byte[] Content)[] entries)
    {
        using var stream = new MemoryStream();
        using (var zip = new ZipArchive(stream, ZipArchiveMode.Create, leaveOpen: true))
        {
            foreach ((string name, byte[] content) in entries)
            {
                using Stream entry = zip.CreateEntry(name, level).Open();
                entry.Write(content);
            }
        }

        return stream.ToArray();
    }

    /// <summary>Applies <paramref name="patch"/> at <paramref name="offset"/> into the <paramref name="occurrence"/>th record with <paramref name="signature"/>.</summary>
    private static void Patch(byte[] zip, byte[] signature, int occurrence, int offset, Action<byte[], int> patch)
    {
        int at = -1;
        for (int i = 0; i <= occurrence; i++)
        {
            at = zip.AsSpan(at + 1).IndexOf(signature) + at + 1;
        }

        patch(zip, at + offset);
    }
}
