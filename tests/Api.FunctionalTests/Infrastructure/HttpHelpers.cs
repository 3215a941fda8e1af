using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using SegServe.Contracts;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.Formats.Png;
using SixLabors.ImageSharp.PixelFormats;

namespace SegServe.Api.FunctionalTests.Infrastructure;

public static class HttpHelpers
{
    public static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    /// <summary>A multipart body with the file as field <c>image</c>.</summary>
    public static MultipartFormDataContent ImageForm(string path) => ImageForm(File.ReadAllBytes(path), Path.GetFileName(path));

    public static MultipartFormDataContent ImageForm(byte[] bytes, string fileName, string field = "image")
    {
        var file = new ByteArrayContent(bytes);
        file.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
        return new MultipartFormDataContent { { file, field, fileName } };
    }

    public static async Task<HttpResponseMessage> PostImageAsync(this HttpClient client, string url, string path, string? accept = null)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, url) { Content = ImageForm(path) };
        if (accept is not null)
        {
            request.Headers.Accept.ParseAdd(accept);
        }

        return await client.SendAsync(request, TestContext.Current.CancellationToken);
    }

    public static async Task<SegmentationResponse> SegmentAsync(this HttpClient client, string model, string path, string query = "")
    {
        using HttpResponseMessage response = await client.PostImageAsync($"/v1/models/{model}/segment{query}", path);
        string body = await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken);
        Assert.True(response.IsSuccessStatusCode, $"{(int)response.StatusCode}: {body}");
        return JsonSerializer.Deserialize<SegmentationResponse>(body, Json)!;
    }

    /// <summary>Reads a problem+json response and checks its status.</summary>
    public static async Task<ProblemBody> ProblemAsync(this HttpResponseMessage response, int expectedStatus)
    {
        string body = await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken);
        Assert.True((int)response.StatusCode == expectedStatus, $"Expected {expectedStatus}, got {(int)response.StatusCode}: {body}");
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        ProblemBody problem = JsonSerializer.Deserialize<ProblemBody>(body, Json)!;
        Assert.Equal(expectedStatus, problem.Status);
        Assert.False(string.IsNullOrWhiteSpace(problem.Detail), "A problem must say what was wrong.");
        return problem;
    }

    /// <summary>Decodes a class-index PNG into a flat array of class ids.</summary>
    public static (int Width, int Height, int[] Classes) DecodeClassMap(byte[] png)
    {
        using Image image = Image.Load(png);
        Assert.Equal(PngColorType.Grayscale, image.Metadata.GetPngMetadata().ColorType);
        if (image.Metadata.GetPngMetadata().BitDepth == PngBitDepth.Bit16)
        {
            using Image<L16> wide = image.CloneAs<L16>();
            var values16 = new int[wide.Width * wide.Height];
            wide.ProcessPixelRows(a =>
            {
                for (int y = 0; y < a.Height; y++)
                {
                    Span<L16> row = a.GetRowSpan(y);
                    for (int x = 0; x < row.Length; x++)
                    {
                        values16[(y * a.Width) + x] = row[x].PackedValue;
                    }
                }
            });
            return (wide.Width, wide.Height, values16);
        }

        using Image<L8> grey = image.CloneAs<L8>();
        var values = new int[grey.Width * grey.Height];
        grey.ProcessPixelRows(a =>
        {
            for (int y = 0; y < a.Height; y++)
            {
                Span<L8> row = a.GetRowSpan(y);
                for (int x = 0; x < row.Length; x++)
                {
                    values[(y * a.Width) + x] = row[x].PackedValue;
                }
            }
        });
        return (grey.Width, grey.Height, values);
    }

    public static Task<T?> GetJsonAsync<T>(this HttpClient client, string url) =>
        client.GetFromJsonAsync<T>(url, Json, TestContext.Current.CancellationToken);
}

/// <summary>The fields of an RFC 9457 problem that tests look at.</summary>
public sealed record ProblemBody(string? Type, string? Title, int Status, string? Detail, string? Parameter, string? Value = null);
