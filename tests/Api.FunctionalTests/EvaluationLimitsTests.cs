using System.IO.Compression;
using System.Net;
using System.Net.Http.Json;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Data.Sqlite;
using SegServe.Api.FunctionalTests.Infrastructure;
using SegServe.Contracts;

namespace SegServe.Api.FunctionalTests;

/// <summary>Evaluation runs with small limits: two samples per run.</summary>
public sealed class SmallRunsFactory : SegServeFactory
{
    protected override void ConfigureSettings(IWebHostBuilder builder) =>
        builder.UseSetting("Evaluation:MaxSamplesPerRun", "2");
}

/// <summary>
/// What an evaluation upload may cost the service is bounded by its bytes and the configured limits: classes, samples
/// per run, and counts stored sparsely (a 426-byte upload to a 4,096-class run once stored 134 MB).
/// </summary>
public sealed class EvaluationLimitsTests(SmallRunsFactory factory) : IClassFixture<SmallRunsFactory>
{
    private static readonly int[] s_truth = [0, 0, 1, 1];
    private static readonly int[] s_prediction = [0, 1, 1, 1];

    private readonly HttpClient _client = factory.CreateClient();

    [Theory]
    [InlineData("/v1/evaluate/semantic?numClasses=1025")]
    [InlineData("/v1/evaluate/semantic?numClasses=4096")]
    public async Task ClassesAboveTheConfiguredLimit_Are400NamingIt(string url)
    {
        using MultipartFormDataContent content = EvaluationTests.Pair(EvaluationTests.GreyPng(2, 2, s_prediction), EvaluationTests.GreyPng(2, 2, s_truth));
        using HttpResponseMessage response = await _client.PostAsync(url, content, TestContext.Current.CancellationToken);
        ProblemBody problem = await response.ProblemAsync(400);
        Assert.Equal("numClasses", problem.Parameter);
        Assert.Contains("1–1024", problem.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ASampleOfAThousandClassRun_IsStoredInAFewBytes()
    {
        EvaluationRunResponse run = await CreateRunAsync(1024);
        await AddPairAsync(run.Id, HttpStatusCode.OK);

        await using var connection = new SqliteConnection($"Data Source={factory.DatabasePath};Mode=ReadOnly");
        await connection.OpenAsync(TestContext.Current.CancellationToken);
        await using SqliteCommand command = connection.CreateCommand();
        command.CommandText = "SELECT length(sums) FROM samples WHERE run_id = $run";
        command.Parameters.AddWithValue("$run", run.Id);
        long bytes = (long)(await command.ExecuteScalarAsync(TestContext.Current.CancellationToken))!;
        Assert.InRange(bytes, 1, 64); // dense, it was (1024² + 3·1024) × 8 = 8.4 MB

        EvaluationRunResponse scored = (await _client.GetJsonAsync<EvaluationRunResponse>($"/v1/evaluations/{run.Id}"))!;
        Assert.Equal(4, scored.Scores!.Pixels);
        Assert.Equal(0.75, scored.Scores.PixelAccuracy);
    }

    [Fact]
    public async Task ARunHoldsAtMostItsLimit_AndAnArchiveThatWouldPassIt_AddsNothing()
    {
        EvaluationRunResponse run = await CreateRunAsync(2);
        await AddPairAsync(run.Id, HttpStatusCode.OK);

        using (var archive = new MultipartFormDataContent { { new ByteArrayContent(Zip(3)), "archive", "pairs.zip" } })
        using (HttpResponseMessage refused = await _client.PostAsync($"/v1/evaluations/{run.Id}/samples", archive, TestContext.Current.CancellationToken))
        {
            ProblemBody problem = await refused.ProblemAsync(429);
            Assert.Equal("urn:segserve:problem:quota-exceeded", problem.Type);
        }

        EvaluationRunResponse after = (await _client.GetJsonAsync<EvaluationRunResponse>($"/v1/evaluations/{run.Id}"))!;
        Assert.Equal(1, after.SampleCount);
        Assert.Equal(0, await StagedRowsAsync());

        await AddPairAsync(run.Id, HttpStatusCode.OK);
        await AddPairAsync(run.Id, (HttpStatusCode)429);
    }

    [Fact]
    public async Task AnArchiveThatFailsHalfway_AddsNothing_AndLeavesNothingStaged()
    {
        EvaluationRunResponse run = await CreateRunAsync(2);
        using var stream = new MemoryStream();
        using (var zip = new ZipArchive(stream, ZipArchiveMode.Create, leaveOpen: true))
        {
            Write(zip, "groundTruth/a.png", EvaluationTests.GreyPng(2, 2, s_truth));
            Write(zip, "prediction/a.png", EvaluationTests.GreyPng(2, 2, s_prediction));
            Write(zip, "groundTruth/b.png", EvaluationTests.GreyPng(2, 2, s_truth));
            Write(zip, "prediction/b.png", EvaluationTests.GreyPng(4, 1, s_prediction)); // the wrong size: 422
        }

        using var content = new MultipartFormDataContent { { new ByteArrayContent(stream.ToArray()), "archive", "pairs.zip" } };
        using HttpResponseMessage response = await _client.PostAsync($"/v1/evaluations/{run.Id}/samples", content, TestContext.Current.CancellationToken);
        ProblemBody problem = await response.ProblemAsync(422);
        Assert.Contains("(b)", problem.Detail, StringComparison.Ordinal);
        Assert.Equal(0, (await _client.GetJsonAsync<EvaluationRunResponse>($"/v1/evaluations/{run.Id}"))!.SampleCount);
        Assert.Equal(0, await StagedRowsAsync());
    }

    private async Task<EvaluationRunResponse> CreateRunAsync(int numClasses)
    {
        using HttpResponseMessage response = await _client.PostAsJsonAsync("/v1/evaluations", new { task = "semantic", numClasses }, TestContext.Current.CancellationToken);
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        return (await response.Content.ReadFromJsonAsync<EvaluationRunResponse>(HttpHelpers.Json, TestContext.Current.CancellationToken))!;
    }

    private async Task AddPairAsync(string run, HttpStatusCode expected)
    {
        using MultipartFormDataContent content = EvaluationTests.Pair(EvaluationTests.GreyPng(2, 2, s_prediction), EvaluationTests.GreyPng(2, 2, s_truth));
        using HttpResponseMessage response = await _client.PostAsync($"/v1/evaluations/{run}/samples", content, TestContext.Current.CancellationToken);
        Assert.True(response.StatusCode == expected, $"{(int)response.StatusCode}: {await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken)}");
    }

    private async Task<long> StagedRowsAsync()
    {
        await using var connection = new SqliteConnection($"Data Source={factory.DatabasePath};Mode=ReadOnly");
        await connection.OpenAsync(TestContext.Current.CancellationToken);
        await using SqliteCommand command = connection.CreateCommand();
        command.CommandText = "SELECT COUNT(*) FROM samples WHERE batch IS NOT NULL";
        return (long)(await command.ExecuteScalarAsync(TestContext.Current.CancellationToken))!;
    }

    private static byte[] Zip(int pairs)
    {
        using var stream = new MemoryStream();
        using (var zip = new ZipArchive(stream, ZipArchiveMode.Create, leaveOpen: true))
        {
            for (int i = 0; i < pairs; i++)
            {
                Write(zip, $"groundTruth/{i}.png", EvaluationTests.GreyPng(2, 2, s_truth));
                Write(zip, $"prediction/{i}.png", EvaluationTests.GreyPng(2, 2, s_prediction));
            }
        }

        return stream.ToArray();
    }

    private static void Write(ZipArchive zip, string name, byte[] content)
    {
        using Stream entry = zip.CreateEntry(name).Open();
        entry.Write(content);
    }
}
