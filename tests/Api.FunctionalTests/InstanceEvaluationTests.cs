using System.Text;
using SegServe.Api.FunctionalTests.Infrastructure;
using SegServe.Contracts;

namespace SegServe.Api.FunctionalTests;

/// <summary>COCO mask AP over HTTP, with inputs written by hand (needs nothing from shared/).</summary>
public sealed class InstanceEvaluationTests(SegServeFactory factory) : IClassFixture<SegServeFactory>
{
    // A 10×10 image; a 4×4 square object (polygon) and a crowd region given as uncompressed RLE (columns 6–9, all rows).
    private const string CocoTruth = """
        {
          "images": [ { "id": 7, "width": 10, "height": 10 } ],
          "categories": [ { "id": 3, "name": "cat" }, { "id": 5, "name": "dog" } ],
          "annotations": [
            { "id": 1, "image_id": 7, "category_id": 3, "segmentation": [[0, 0, 4, 0, 4, 4, 0, 4]], "area": 16, "iscrowd": 0 },
            { "id": 2, "image_id": 7, "category_id": 3, "segmentation": { "size": [10, 10], "counts": [60, 40] }, "area": 40, "iscrowd": 1 }
          ]
        }
        """;

    // The square, column-major: four columns of 4 set pixels separated by 6 clear ones.
    private const string SquareCounts = "[0, 4, 6, 4, 6, 4, 6, 4, 66]";

    private readonly HttpClient _client = factory.CreateClient();

    private async Task<HttpResponseMessage> PostAsync(string predictions, byte[] groundTruth, byte[]? classMap = null, string query = "")
    {
        var content = new MultipartFormDataContent
        {
            { new ByteArrayContent(Encoding.UTF8.GetBytes(predictions)), "predictions", "predictions.json" },
            { new ByteArrayContent(groundTruth), "groundTruth", "truth" },
        };
        if (classMap is not null)
        {
            content.Add(new ByteArrayContent(classMap), "classMap", "classes.png");
        }

        using (content)
        {
            return await _client.PostAsync("/v1/evaluate/instances" + query, content, TestContext.Current.CancellationToken);
        }
    }

    private static async Task<InstanceScoresResponse> ScoresAsync(HttpResponseMessage response)
    {
        string body = await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken);
        Assert.True(response.IsSuccessStatusCode, $"{(int)response.StatusCode}: {body}");
        return System.Text.Json.JsonSerializer.Deserialize<InstanceScoresResponse>(body, HttpHelpers.Json)!;
    }

    [Fact]
    public async Task CocoFiles_PerfectMatch_AndADetectionOnTheCrowdCostsNothing()
    {
        string predictions = $$"""
            [
              { "image_id": 7, "category_id": 3, "score": 0.9, "segmentation": { "size": [10, 10], "counts": {{SquareCounts}} } },
              { "image_id": 7, "category_id": 3, "score": 0.95, "segmentation": { "size": [10, 10], "counts": [70, 20, 10] } }
            ]
            """;
        using HttpResponseMessage response = await PostAsync(predictions, Encoding.UTF8.GetBytes(CocoTruth));

        InstanceScoresResponse scores = await ScoresAsync(response);

        Assert.Equal(1.0, scores.Ap!.Value, 12);
        Assert.Equal(1.0, scores.Ar100!.Value, 12);
        Assert.Equal(1.0, scores.ApSmall!.Value, 12);
        Assert.Null(scores.ApLarge);
        Assert.Equal(2, scores.GroundTruthInstances);
        Assert.Equal(2, scores.Detections);
        Assert.Equal("cat", scores.Categories[0].Name);
        Assert.Null(scores.Categories[1].Ap); // dog: no ground truth
    }

    [Fact]
    public async Task CocoFiles_ShiftedDetection_MatchesOnlyLowThresholds()
    {
        // The square shifted one column right: 12 in common, 20 in the union → IoU 0.6: matched at .50, .55, .60.
        string predictions = """
            [ { "image_id": 7, "category_id": 3, "score": 0.9, "segmentation": { "size": [10, 10], "counts": [10, 4, 6, 4, 6, 4, 6, 4, 56] } } ]
            """;
        using HttpResponseMessage response = await PostAsync(predictions, Encoding.UTF8.GetBytes(CocoTruth));

        InstanceScoresResponse scores = await ScoresAsync(response);

        Assert.Equal(0.3, scores.Ap!.Value, 12);
        Assert.Equal(1.0, scores.Ap50!.Value, 12);
        Assert.Equal(0.0, scores.Ap75!.Value, 12);
    }

    [Fact]
    public async Task InstancePng_WithClassMap_AndTheServiceOwnFormat()
    {
        // 4×4: instance 1 (class 3) is the top-left 2×2 square; compressed counts [0,2,2,2,10] = "02208".
        int[] ids = [1, 1, 0, 0, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0];
        int[] classes = [3, 3, 0, 0, 3, 3, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0];
        string predictions = """{ "instances": [ { "classId": 3, "score": 0.9, "mask": { "size": [4, 4], "counts": "02208" } } ] }""";

        using HttpResponseMessage response = await PostAsync(predictions, EvaluationTests.GreyPng(4, 4, ids, sixteenBit: true), EvaluationTests.GreyPng(4, 4, classes));

        InstanceScoresResponse scores = await ScoresAsync(response);
        Assert.Equal(1.0, scores.Ap!.Value, 12);
        Assert.Equal(3, scores.Categories.Single().Id);
    }

    [Theory]
    [InlineData("not json", 400, "predictions")]
    [InlineData("""[ { "image_id": 8, "category_id": 3, "score": 0.9, "segmentation": { "size": [10, 10], "counts": [100] } } ]""", 422, "image 8")]
    [InlineData("""[ { "image_id": 7, "category_id": 3, "score": 0.9, "segmentation": { "size": [5, 10], "counts": [50] } } ]""", 422, "[5, 10]")]
    [InlineData("""[ { "image_id": 7, "category_id": 3, "score": 0.9, "segmentation": { "size": [10, 10], "counts": [7] } } ]""", 422, "cover 7")]
    [InlineData("""[ { "image_id": 7, "category_id": 3, "segmentation": { "size": [10, 10], "counts": [100] } } ]""", 422, "score")]
    public async Task BadPredictions_AreNamed(string predictions, int status, string named)
    {
        using HttpResponseMessage response = await PostAsync(predictions, Encoding.UTF8.GetBytes(CocoTruth));
        ProblemBody problem = await response.ProblemAsync(status);
        Assert.Contains(named, problem.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task PngTruthWithoutClassMap_Is400()
    {
        using HttpResponseMessage response = await PostAsync("[]", EvaluationTests.GreyPng(2, 2, [0, 1, 0, 0], sixteenBit: true));
        ProblemBody problem = await response.ProblemAsync(400);
        Assert.Contains("classMap", problem.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task InstanceRun_EvaluatesAllSamplesImagesTogether()
    {
        using HttpResponseMessage created = await _client.PostAsync(
            "/v1/evaluations",
            new StringContent("""{ "task": "instances" }""", Encoding.UTF8, "application/json"),
            TestContext.Current.CancellationToken);
        string createdBody = await created.Content.ReadAsStringAsync(TestContext.Current.CancellationToken);
        Assert.True(created.StatusCode == System.Net.HttpStatusCode.Created, createdBody);
        EvaluationRunResponse run = System.Text.Json.JsonSerializer.Deserialize<EvaluationRunResponse>(createdBody, HttpHelpers.Json)!;

        // Sample 1 (COCO files): the square found exactly. Sample 2 (same files): the square shifted (IoU 0.6).
        // Both samples use image id 7; the run keeps them apart.
        string perfect = $$"""[ { "image_id": 7, "category_id": 3, "score": 0.9, "segmentation": { "size": [10, 10], "counts": {{SquareCounts}} } } ]""";
        string shifted = """[ { "image_id": 7, "category_id": 3, "score": 0.8, "segmentation": { "size": [10, 10], "counts": [10, 4, 6, 4, 6, 4, 6, 4, 56] } } ]""";
        foreach ((string name, string predictions) in new[] { ("a", perfect), ("b", shifted) })
        {
            using var content = new MultipartFormDataContent
            {
                { new ByteArrayContent(Encoding.UTF8.GetBytes(predictions)), "predictions", "p.json" },
                { new ByteArrayContent(Encoding.UTF8.GetBytes(CocoTruth)), "groundTruth", "t.json" },
            };
            using HttpResponseMessage added = await _client.PostAsync($"/v1/evaluations/{run.Id}/samples?name={name}", content, TestContext.Current.CancellationToken);
            Assert.True(added.IsSuccessStatusCode, await added.Content.ReadAsStringAsync(TestContext.Current.CancellationToken));
        }

        EvaluationRunResponse result = (await _client.GetJsonAsync<EvaluationRunResponse>($"/v1/evaluations/{run.Id}"))!;
        Assert.Equal(2, result.SampleCount);
        Assert.Equal(1.0, result.Samples[0].Ap!.Value, 12);
        Assert.Equal(0.3, result.Samples[1].Ap!.Value, 12);
        InstanceScoresResponse scores = result.InstanceScores!;
        Assert.Equal(2, scores.Images);
        // Two objects, two detections by score: the exact one first. At IoU ≤ 0.60 both match (AP 1); above, only the
        // first (precision 1 up to recall 0.5, then 1/2: 51 recall thresholds at 1). AP = (3·1 + 7·51/101) / 10.
        Assert.Equal((3 + (7 * 51.0 / 101)) / 10, scores.Ap!.Value, 9);

        using HttpResponseMessage report = await _client.GetAsync($"/v1/evaluations/{run.Id}/report.png", TestContext.Current.CancellationToken);
        await report.ProblemAsync(409);
    }
}
