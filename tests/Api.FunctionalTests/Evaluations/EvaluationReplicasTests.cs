using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.AspNetCore.Hosting;
using SegServe.Api.FunctionalTests.Infrastructure;
using SegServe.Api.FunctionalTests.Telemetry;
using SegServe.Contracts;

namespace SegServe.Api.FunctionalTests.Evaluations;

/// <summary>The service on real loopback sockets, keeping its evaluation runs in the PostgreSQL database given.</summary>
public sealed class PostgresReplicaFactory(string connectionString) : KestrelFactory
{
    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        base.ConfigureWebHost(builder);
        builder.UseSetting("ConnectionStrings:Evaluations", connectionString);
    }
}

/// <summary>
/// Two instances of the service sharing one PostgreSQL database, as two replicas behind a load balancer: samples added
/// to one run through both at once are all kept, and both instances report the same scores — the scores one instance
/// gives when the same samples are added one by one.
/// </summary>
[Collection(PostgresTests.Name)]
public sealed class EvaluationReplicasTests(PostgresServer server)
{
    private const int SamplesPerReplica = 10;
    private const int Classes = 3;

    [Fact]
    public async Task TwoReplicasAddingToOneRunAtOnce_LoseNothing_AndAgreeOnItsScores()
    {
        string database = await server.CreateDatabaseAsync();
        using var first = new PostgresReplicaFactory(database);
        using var second = new PostgresReplicaFactory(database);
        using HttpClient a = first.CreateClient(), b = second.CreateClient();
        (byte[] Truth, byte[] Prediction)[] pairs = [.. Enumerable.Range(0, 2 * SamplesPerReplica).Select(static i => RandomPair(new Random(i)))];

        EvaluationRunResponse run = await CreateRunAsync(a);
        HttpResponseMessage[] responses = await Task.WhenAll(pairs.Select((pair, i) => AddAsync(i % 2 == 0 ? a : b, run.Id, $"s{i:D2}", pair)));
        foreach (HttpResponseMessage response in responses)
        {
            Assert.True(response.StatusCode == HttpStatusCode.OK, $"{(int)response.StatusCode}: {await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken)}");
            response.Dispose();
        }

        EvaluationRunResponse fromA = (await a.GetJsonAsync<EvaluationRunResponse>($"/v1/evaluations/{run.Id}"))!;
        EvaluationRunResponse fromB = (await b.GetJsonAsync<EvaluationRunResponse>($"/v1/evaluations/{run.Id}"))!;
        Assert.Equal(2 * SamplesPerReplica, fromA.SampleCount);
        Assert.Equal(2 * SamplesPerReplica, fromB.SampleCount);
        Assert.Equal(pairs.Select(static (_, i) => $"s{i:D2}"), fromA.Samples.Select(static s => s.Name).Order(StringComparer.Ordinal));
        Assert.Equal(Json(fromA.Scores), Json(fromB.Scores));

        // The same samples, one at a time through one instance, into a fresh run.
        EvaluationRunResponse reference = await CreateRunAsync(a);
        for (int i = 0; i < pairs.Length; i++)
        {
            using HttpResponseMessage response = await AddAsync(a, reference.Id, $"s{i:D2}", pairs[i]);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }

        EvaluationRunResponse sequential = (await b.GetJsonAsync<EvaluationRunResponse>($"/v1/evaluations/{reference.Id}"))!;
        Assert.Equal(Json(sequential.Scores), Json(fromA.Scores));
        Assert.Equal(pairs.Length * 64, fromA.Scores!.Pixels);
    }

    [Fact]
    public async Task ARunDeletedThroughOneReplica_IsGoneFromTheOther()
    {
        string database = await server.CreateDatabaseAsync();
        using var first = new PostgresReplicaFactory(database);
        using var second = new PostgresReplicaFactory(database);
        using HttpClient a = first.CreateClient(), b = second.CreateClient();
        EvaluationRunResponse run = await CreateRunAsync(a);
        using (HttpResponseMessage added = await AddAsync(a, run.Id, "only", RandomPair(new Random(1))))
        {
            Assert.Equal(HttpStatusCode.OK, added.StatusCode);
        }

        using HttpResponseMessage deleted = await b.DeleteAsync($"/v1/evaluations/{run.Id}", TestContext.Current.CancellationToken);
        using HttpResponseMessage read = await a.GetAsync($"/v1/evaluations/{run.Id}", TestContext.Current.CancellationToken);
        using HttpResponseMessage again = await a.DeleteAsync($"/v1/evaluations/{run.Id}", TestContext.Current.CancellationToken);

        Assert.Equal(HttpStatusCode.NoContent, deleted.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, read.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, again.StatusCode);
    }

    [Fact]
    public async Task ReadinessFollowsTheStore_ReadyWithItsDatabase()
    {
        using var factory = new PostgresReplicaFactory(await server.CreateDatabaseAsync());
        using HttpClient client = factory.CreateClient();

        using HttpResponseMessage ready = await client.GetAsync("/health/ready", TestContext.Current.CancellationToken);

        Assert.Equal(HttpStatusCode.OK, ready.StatusCode);
    }

    [Fact]
    public async Task ReadinessFollowsTheStore_NotReadyWhileItsDatabaseIsUnreachable()
    {
        // Nothing listens on a port just found free: the models are ready, the evaluation store is not.
        using var factory = new PostgresReplicaFactory($"Host=127.0.0.1;Port={KestrelFactory.FreePort()};Database=segserve;Username=segserve;Timeout=2");
        using HttpClient client = factory.CreateClient();

        using HttpResponseMessage ready = await client.GetAsync("/health/ready", TestContext.Current.CancellationToken);
        using HttpResponseMessage live = await client.GetAsync("/health/live", TestContext.Current.CancellationToken);

        Assert.Equal(HttpStatusCode.ServiceUnavailable, ready.StatusCode);
        HealthReport report = (await ready.Content.ReadFromJsonAsync<HealthReport>(HttpHelpers.Json, TestContext.Current.CancellationToken))!;
        Assert.Equal("not-ready", report.Status);
        Assert.All(report.Models.Where(static m => m.Required), static m => Assert.Equal("ready", m.Status));
        Assert.Equal(HttpStatusCode.OK, live.StatusCode);
    }

    [Theory]
    [InlineData("Host=db;Nonsense=1", "Nonsense")]
    [InlineData("postgres://segserve:secret@db:5432/segserve", "not a valid PostgreSQL connection string")]
    [InlineData("Database=segserve;Username=segserve", "names no PostgreSQL Host")]
    public void AConnectionStringNpgsqlCannotUse_StopsTheServiceAtStart_SayingWhy(string connectionString, string named)
    {
        using var factory = new PostgresReplicaFactory(connectionString);

        Exception refused = Assert.ThrowsAny<Exception>(() => factory.CreateClient());

        string message = refused.ToString();
        Assert.Contains("ConnectionStrings:Evaluations", message, StringComparison.Ordinal);
        Assert.Contains(named, message, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("secret", message, StringComparison.Ordinal);
    }

    private static async Task<EvaluationRunResponse> CreateRunAsync(HttpClient client)
    {
        using HttpResponseMessage response = await client.PostAsJsonAsync("/v1/evaluations", new { task = "semantic", numClasses = Classes }, TestContext.Current.CancellationToken);
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        return (await response.Content.ReadFromJsonAsync<EvaluationRunResponse>(HttpHelpers.Json, TestContext.Current.CancellationToken))!;
    }

    private static async Task<HttpResponseMessage> AddAsync(HttpClient client, string run, string name, (byte[] Truth, byte[] Prediction) pair)
    {
        using MultipartFormDataContent content = EvaluationTests.Pair(pair.Prediction, pair.Truth);
        return await client.PostAsync($"/v1/evaluations/{run}/samples?name={name}", content, TestContext.Current.CancellationToken);
    }

    /// <summary>An 8×8 ground truth and a prediction that agrees with it on about two pixels in three.</summary>
    private static (byte[] Truth, byte[] Prediction) RandomPair(Random random)
    {
        int[] truth = [.. Enumerable.Range(0, 64).Select(_ => random.Next(Classes))];
        int[] prediction = [.. truth.Select(t => random.Next(3) == 0 ? random.Next(Classes) : t)];
        return (EvaluationTests.GreyPng(8, 8, truth), EvaluationTests.GreyPng(8, 8, prediction));
    }

    private static string Json(SemanticScoresResponse? scores) => JsonSerializer.Serialize(scores, HttpHelpers.Json);
}
