using Microsoft.AspNetCore.Hosting;
using SegServe.Api.FunctionalTests.Infrastructure;
using SegServe.Contracts;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;

namespace SegServe.Api.FunctionalTests.Host;

/// <summary>A U-Net at native resolution with a 20 ms run timeout: a 1,536² image cannot finish in time.</summary>
public sealed class ShortTimeoutFactory : SegServeFactory
{
    public const string Model = "unet-small-native";

    protected override void ConfigureSettings(IWebHostBuilder builder)
    {
        builder.UseSetting($"Inference:Resilience:Models:{Model}:RunTimeoutMs", "20");
        builder.UseSetting($"Inference:Resilience:Models:{Model}:MinimumThroughput", "2");
        builder.UseSetting($"Inference:Resilience:Models:{Model}:BreakDurationMs", "60000");
    }
}

/// <summary>
/// Real ONNX Runtime runs stopped by their timeout (RunOptions.Terminate), then the model's circuit opening after
/// repeated failures: refused at once with Retry-After, and reported on the model.
/// </summary>
public sealed class ModelResilienceTests(ShortTimeoutFactory factory) : IClassFixture<ShortTimeoutFactory>
{
    private readonly HttpClient _client = factory.CreateClient();

    [Fact]
    public async Task RunsOverTheirTimeoutAreStopped_ThenTheCircuitOpensAndRefusesAtOnce()
    {
        SharedData.Require();
        byte[] large = Gradient(1536, 1536);
        for (int i = 0; i < 2; i++)
        {
            using HttpResponseMessage timedOut = await PostAsync(large);
            ProblemBody problem = await timedOut.ProblemAsync(503);
            Assert.Equal("urn:segserve:problem:model-timeout", problem.Type);
            Assert.Contains("20 ms", problem.Detail, StringComparison.Ordinal);
        }

        // Two failures of two runs: the circuit is open. The next request is refused before its upload is read.
        using HttpResponseMessage refused = await PostAsync(Gradient(8, 8));
        ProblemBody suspended = await refused.ProblemAsync(503);
        Assert.Equal("urn:segserve:problem:model-suspended", suspended.Type);
        Assert.InRange(int.Parse(refused.Headers.RetryAfter!.ToString(), System.Globalization.CultureInfo.InvariantCulture), 1, 60);

        ModelDescription model = (await _client.GetJsonAsync<ModelDescription>($"/v1/models/{ShortTimeoutFactory.Model}"))!;
        Assert.Equal("open", model.Circuit!.State);
        Assert.Equal(20, model.Circuit.RunTimeoutMs);
        Assert.Contains("20 ms", model.Circuit.LastFailure, StringComparison.Ordinal);

        // Other models are not affected.
        ModelDescription other = (await _client.GetJsonAsync<ModelDescription>("/v1/models/unet-small"))!;
        Assert.Equal("closed", other.Circuit!.State);
    }

    private async Task<HttpResponseMessage> PostAsync(byte[] png)
    {
        using var content = HttpHelpers.ImageForm(png, "large.png");
        return await _client.PostAsync($"/v1/models/{ShortTimeoutFactory.Model}/segment", content, TestContext.Current.CancellationToken);
    }

    private static byte[] Gradient(int width, int height)
    {
        using var image = new Image<Rgb24>(width, height);
        image.ProcessPixelRows(rows =>
        {
            for (int y = 0; y < rows.Height; y++)
            {
                Span<Rgb24> row = rows.GetRowSpan(y);
                for (int x = 0; x < row.Length; x++)
                {
                    row[x] = new Rgb24((byte)x, (byte)y, (byte)(x + y));
                }
            }
        });
        using var stream = new MemoryStream();
        image.SaveAsPng(stream);
        return stream.ToArray();
    }
}
