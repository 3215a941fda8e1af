using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Hosting;
using SegServe.Api.FunctionalTests.Infrastructure;
using SegServe.Contracts;
using SegServe.Tests.Shared;

namespace SegServe.Api.FunctionalTests.Host;

/// <summary>The repository's models behind API keys: no anonymous access, two users and an admin, small quotas.</summary>
public sealed class KeysFactory : DefaultModelsFactory
{
    public const string Alice = "alice-secret-key";
    public const string Bob = "bob-secret-key";
    public const string Root = "root-secret-key";

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        base.ConfigureWebHost(builder);
        builder.UseSetting("Authentication:AllowAnonymous", "false");
        Key(builder, 0, "alice", Alice, "user");
        Key(builder, 1, "bob", Bob, "user");
        Key(builder, 2, "root", Root, "admin");
        builder.UseSetting("Evaluation:MaxRunsPerKey", "2");
    }

    private static void Key(IWebHostBuilder builder, int index, string name, string key, string role)
    {
        builder.UseSetting($"Authentication:ApiKeys:{index}:Name", name);
        builder.UseSetting($"Authentication:ApiKeys:{index}:Sha256", Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(key))));
        builder.UseSetting($"Authentication:ApiKeys:{index}:Roles:0", role);
    }
}

/// <summary>Keys and roles: 401 without a known key, 403 without the role; runs belong to their key; quotas per key.</summary>
public sealed class SecurityTests(KeysFactory factory) : IClassFixture<KeysFactory>
{
    private readonly HttpClient _client = factory.CreateClient();

    [Fact]
    public async Task WithoutAKey_Or_WithAnUnknownOne_Is401()
    {
        using HttpResponseMessage none = await _client.GetAsync("/v1/models", TestContext.Current.CancellationToken);
        ProblemBody problem = await none.ProblemAsync(401);
        Assert.Equal("urn:segserve:problem:unauthorized", problem.Type);
        Assert.Contains("X-Api-Key", none.Headers.WwwAuthenticate.ToString(), StringComparison.Ordinal);

        using HttpResponseMessage wrong = await SendAsync(HttpMethod.Get, "/v1/models", "not-a-key");
        Assert.Contains("not one this service knows", (await wrong.ProblemAsync(401)).Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AUserKey_InEitherHeader_IsServed()
    {
        using HttpResponseMessage header = await SendAsync(HttpMethod.Get, "/v1/models", KeysFactory.Alice);
        Assert.Equal(HttpStatusCode.OK, header.StatusCode);

        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/models/selfie/segment") { Content = HttpHelpers.ImageForm(Repository.PathOf("docs/examples/camera.png")) };
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", KeysFactory.Alice);
        using HttpResponseMessage bearer = await _client.SendAsync(request, TestContext.Current.CancellationToken);
        Assert.Equal(HttpStatusCode.OK, bearer.StatusCode);
    }

    [Fact]
    public async Task Reloading_NeedsTheAdminRole()
    {
        using HttpResponseMessage user = await SendAsync(HttpMethod.Post, "/v1/models/selfie/reload", KeysFactory.Alice);
        Assert.Equal("urn:segserve:problem:forbidden", (await user.ProblemAsync(403)).Type);

        using HttpResponseMessage admin = await SendAsync(HttpMethod.Post, "/v1/models/selfie/reload", KeysFactory.Root);
        string body = await admin.Content.ReadAsStringAsync(TestContext.Current.CancellationToken);
        Assert.True(admin.StatusCode == HttpStatusCode.OK, body);
        Assert.Contains("\"status\":\"ready\"", body, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Health_NeedsNoKey()
    {
        using HttpResponseMessage live = await _client.GetAsync("/health/live", TestContext.Current.CancellationToken);
        Assert.Equal(HttpStatusCode.OK, live.StatusCode);
    }

    [Fact]
    public async Task Runs_BelongToTheirKey_AdminsSeeAll_AndEachKeyHasItsQuota()
    {
        string id = await CreateRunAsync(KeysFactory.Bob);
        using (HttpResponseMessage own = await SendAsync(HttpMethod.Get, $"/v1/evaluations/{id}", KeysFactory.Bob))
        {
            Assert.Equal(HttpStatusCode.OK, own.StatusCode);
        }

        using (HttpResponseMessage other = await SendAsync(HttpMethod.Get, $"/v1/evaluations/{id}", KeysFactory.Alice))
        {
            await other.ProblemAsync(404);
        }

        using (HttpResponseMessage admin = await SendAsync(HttpMethod.Get, $"/v1/evaluations/{id}", KeysFactory.Root))
        {
            Assert.Equal(HttpStatusCode.OK, admin.StatusCode);
        }

        await CreateRunAsync(KeysFactory.Bob);
        using HttpResponseMessage third = await SendAsync(HttpMethod.Post, "/v1/evaluations", KeysFactory.Bob, JsonContent.Create(new { task = "semantic", numClasses = 2 }));
        ProblemBody problem = await third.ProblemAsync(429);
        Assert.Equal("urn:segserve:problem:quota-exceeded", problem.Type);
        Assert.Contains("'bob'", problem.Detail, StringComparison.Ordinal);
    }

    private async Task<string> CreateRunAsync(string key)
    {
        using HttpResponseMessage response = await SendAsync(HttpMethod.Post, "/v1/evaluations", key, JsonContent.Create(new { task = "semantic", numClasses = 2 }));
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        return (await response.Content.ReadFromJsonAsync<EvaluationRunResponse>(HttpHelpers.Json, TestContext.Current.CancellationToken))!.Id;
    }

    private async Task<HttpResponseMessage> SendAsync(HttpMethod method, string url, string key, HttpContent? content = null)
    {
        using var request = new HttpRequestMessage(method, url) { Content = content };
        request.Headers.Add("X-Api-Key", key);
        return await _client.SendAsync(request, TestContext.Current.CancellationToken);
    }
}

/// <summary>One request a second, two at once, per caller.</summary>
public sealed class SlowRateFactory : DefaultModelsFactory
{
    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        base.ConfigureWebHost(builder);
        builder.UseSetting("RateLimiting:PermitsPerSecond", "1");
        builder.UseSetting("RateLimiting:Burst", "2");
    }
}

public sealed class RateLimitTests(SlowRateFactory factory) : IClassFixture<SlowRateFactory>
{
    [Fact]
    public async Task ACallerOverItsRate_Is429WithRetryAfter_AndProbesAreNotLimited()
    {
        using HttpClient client = factory.CreateClient();
        var statuses = new List<HttpStatusCode>();
        HttpResponseMessage? limited = null;
        for (int i = 0; i < 4 && limited is null; i++)
        {
            HttpResponseMessage response = await client.GetAsync("/v1/models", TestContext.Current.CancellationToken);
            statuses.Add(response.StatusCode);
            if (response.StatusCode == HttpStatusCode.TooManyRequests)
            {
                limited = response;
            }
            else
            {
                response.Dispose();
            }
        }

        Assert.NotNull(limited);
        using (limited)
        {
            ProblemBody problem = await limited.ProblemAsync(429);
            Assert.Equal("urn:segserve:problem:rate-limited", problem.Type);
            Assert.NotNull(limited.Headers.RetryAfter);
        }

        for (int i = 0; i < 5; i++)
        {
            using HttpResponseMessage live = await client.GetAsync("/health/live", TestContext.Current.CancellationToken);
            Assert.Equal(HttpStatusCode.OK, live.StatusCode);
        }
    }
}
