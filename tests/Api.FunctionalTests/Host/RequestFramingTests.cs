using System.Net.Http.Headers;
using System.Text;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using SegServe.Api.FunctionalTests.Infrastructure;
using SegServe.Tests.Shared;

namespace SegServe.Api.FunctionalTests.Host;

/// <summary>Uploads of up to 2 MiB a file, so that a two-file body passes the one-file limit cheaply.</summary>
public sealed class TwoMegabyteFactory : DefaultModelsFactory
{
    public const long MaxBytes = 2 * 1024 * 1024;

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        base.ConfigureWebHost(builder);
        builder.UseSetting("Inference:Images:MaxBytes", MaxBytes.ToString(System.Globalization.CultureInfo.InvariantCulture));
    }
}

/// <summary>Each malformed or oversized request is named for what it is, not for a limit it did not break.</summary>
public sealed class RequestFramingTests(TwoMegabyteFactory factory) : IClassFixture<TwoMegabyteFactory>
{
    private readonly HttpClient _client = factory.CreateClient();

    public static TheoryData<string, string, string> MalformedBodies => new()
    {
        { "long part headers", "--b\r\nContent-Disposition: form-data; name=\"image\"; filename=\"a\"\r\nX-Long: " + new string('a', 20_000) + "\r\n\r\ndata\r\n--b--\r\n", "headers length limit" },
        { "many part headers", "--b\r\n" + string.Concat(Enumerable.Range(0, 30).Select(static i => $"X-H{i}: v\r\n")) + "Content-Disposition: form-data; name=\"image\"\r\n\r\ndata\r\n--b--\r\n", "headers count limit" },
        { "a long preamble", new string('p', 18_000) + "\r\n--b\r\nContent-Disposition: form-data; name=\"image\"\r\n\r\ndata\r\n--b--\r\n", "before the first boundary" },
        { "LF line endings", "--b\nContent-Disposition: form-data; name=\"image\"\n\ndata\n--b--\n", "CRLF" },
    };

    [Theory]
    [MemberData(nameof(MalformedBodies))]
    public async Task MalformedMultipart_IsNamedAsSuch_NotAsTooLarge(string what, string body, string named)
    {
        using var content = new StringContent(body, Encoding.ASCII);
        content.Headers.ContentType = MediaTypeHeaderValue.Parse("multipart/form-data; boundary=b");
        using HttpResponseMessage response = await _client.PostAsync("/v1/models/selfie/segment", content, TestContext.Current.CancellationToken);
        ProblemBody problem = await response.ProblemAsync(400);
        Assert.True(problem.Type == "urn:segserve:problem:malformed-multipart", $"{what}: {problem.Type}");
        Assert.Contains(named, problem.Detail, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(71)]
    [InlineData(8192)]
    public async Task ABoundaryLongerThanRfc2046Allows_IsMalformed(int length)
    {
        string boundary = new('b', length);
        using var content = new StringContent($"--{boundary}\r\nContent-Disposition: form-data; name=\"image\"\r\n\r\ndata\r\n--{boundary}--\r\n", Encoding.ASCII);
        content.Headers.ContentType = MediaTypeHeaderValue.Parse($"multipart/form-data; boundary={boundary}");
        using HttpResponseMessage response = await _client.PostAsync("/v1/models/selfie/segment", content, TestContext.Current.CancellationToken);
        ProblemBody problem = await response.ProblemAsync(400);
        Assert.Equal("urn:segserve:problem:malformed-multipart", problem.Type);
        Assert.Contains("at most 70", problem.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task TwoFilesEachWithinTheLimit_AreRead_EvenWhenTogetherTheyPassOneFilesLimit()
    {
        // 1.9 MiB + 1.9 MiB: over one file's 2 MiB + framing, within the evaluation endpoint's three files. The bytes
        // are not label maps, so the answer is that — not that the upload is too large.
        byte[] noise = new byte[(int)(TwoMegabyteFactory.MaxBytes * 0.95)];
        using var content = new MultipartFormDataContent
        {
            { new ByteArrayContent(noise), "prediction", "p.png" },
            { new ByteArrayContent(noise), "groundTruth", "g.png" },
        };
        using HttpResponseMessage response = await _client.PostAsync("/v1/evaluate/semantic?numClasses=2", content, TestContext.Current.CancellationToken);
        ProblemBody problem = await response.ProblemAsync(400);
        Assert.Equal("urn:segserve:problem:unreadable-file", problem.Type);
    }

    [Fact]
    public async Task JsonBodies_HaveTheirOwnSmallLimit()
    {
        string padding = new('x', 2 * 1024 * 1024);
        using var content = new StringContent($$"""{"task":"semantic","numClasses":2,"palette":"{{padding}}"}""", Encoding.UTF8, "application/json");
        using HttpResponseMessage response = await _client.PostAsync("/v1/evaluations", content, TestContext.Current.CancellationToken);
        ProblemBody problem = await response.ProblemAsync(413);
        Assert.Equal("urn:segserve:problem:request-too-large", problem.Type);
    }

    [Fact]
    public async Task TextToAJsonEndpoint_IsToldWhatItTakes()
    {
        using var content = new StringContent("hello", Encoding.UTF8, "text/plain");
        using HttpResponseMessage response = await _client.PostAsync("/v1/evaluations", content, TestContext.Current.CancellationToken);
        ProblemBody problem = await response.ProblemAsync(415);
        Assert.Contains("application/json", problem.Detail, StringComparison.Ordinal);
        Assert.DoesNotContain("image", problem.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public void TheServerHeader_IsNotSent() =>
        Assert.False(factory.Services.GetRequiredService<IOptions<KestrelServerOptions>>().Value.AddServerHeader);

    [Fact]
    public async Task AnImageWithinTheLimit_StillSegments()
    {
        using HttpResponseMessage response = await _client.PostImageAsync("/v1/models/selfie/segment", Repository.PathOf("docs/examples/camera.png"));
        Assert.True(response.IsSuccessStatusCode, await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken));
    }
}
