using System.Buffers;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.Net.Http.Headers;
using SegServe.Api.Problems;
using SegServe.Inference;

namespace SegServe.Api.Uploads;

/// <summary>An uploaded file held in a pooled buffer; dispose it to return the buffer.</summary>
public sealed class ImageUpload : IDisposable
{
    private byte[]? _buffer;

    internal ImageUpload(byte[] buffer, int length, string? fileName)
    {
        _buffer = buffer;
        Length = length;
        FileName = fileName;
    }

    public int Length { get; }

    public string? FileName { get; }

    public ReadOnlyMemory<byte> Content => _buffer.AsMemory(0, Length);

    public void Dispose()
    {
        if (_buffer is not null)
        {
            ArrayPool<byte>.Shared.Return(_buffer);
            _buffer = null;
        }
    }
}

/// <summary>
/// Streams the <c>image</c> part of a multipart upload straight into a pooled buffer (no temporary files, no form
/// collection), stopping as soon as the byte limit is passed.
/// </summary>
public static class ImageUploadReader
{
    public const string FieldName = "image";

    // Room for the other parts and multipart framing around an image of the maximum size.
    private const long FramingAllowance = 1024 * 1024;

    /// <summary>Reads the upload, or returns the problem that describes why it cannot be read.</summary>
    public static async Task<(ImageUpload? Upload, ProblemHttpResult? Problem)> ReadAsync(HttpRequest request, ImageLimits limits, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(limits);
        if (!MediaTypeHeaderValue.TryParse(request.ContentType, out MediaTypeHeaderValue? contentType)
            || !contentType.MediaType.Equals("multipart/form-data", StringComparison.OrdinalIgnoreCase))
        {
            return (null, ProblemResults.Create(
                StatusCodes.Status415UnsupportedMediaType,
                "Unsupported media type",
                $"Send the image as multipart/form-data with a file field named '{FieldName}' (got Content-Type '{request.ContentType ?? "none"}').",
                ProblemTypes.UnsupportedMediaType));
        }

        string boundary = HeaderUtilities.RemoveQuotes(contentType.Boundary).Value ?? "";
        if (boundary.Length == 0)
        {
            return (null, MissingImage("The multipart Content-Type has no boundary."));
        }

        if (request.ContentLength > limits.MaxBytes + FramingAllowance)
        {
            return (null, TooLarge($"The request body is {request.ContentLength} bytes; images are limited to {limits.MaxBytes} bytes."));
        }

        var reader = new MultipartReader(boundary, request.Body) { BodyLengthLimit = limits.MaxBytes + FramingAllowance };
        try
        {
            MultipartSection? section;
            while ((section = await reader.ReadNextSectionAsync(cancellationToken).ConfigureAwait(false)) is not null)
            {
                if (!ContentDispositionHeaderValue.TryParse(section.ContentDisposition, out ContentDispositionHeaderValue? disposition)
                    || !FieldName.Equals(HeaderUtilities.RemoveQuotes(disposition.Name).Value, StringComparison.Ordinal))
                {
                    continue;
                }

                string? fileName = HeaderUtilities.RemoveQuotes(disposition.FileName).Value;
                return await ReadSectionAsync(section.Body, fileName, limits.MaxBytes, cancellationToken).ConfigureAwait(false);
            }
        }
        catch (BadHttpRequestException ex) when (ex.StatusCode == StatusCodes.Status413PayloadTooLarge)
        {
            return (null, TooLarge($"The request body exceeds the server's limit: {ex.Message}"));
        }
        catch (InvalidDataException ex)
        {
            // MultipartReader reports both malformed framing and an exceeded body limit this way.
            return ex.Message.Contains("limit", StringComparison.OrdinalIgnoreCase)
                ? (null, TooLarge($"The upload exceeds the limit of {limits.MaxBytes} bytes."))
                : (null, MissingImage($"The multipart body is malformed: {ex.Message}"));
        }
        catch (IOException ex)
        {
            return (null, MissingImage($"The multipart body could not be read: {ex.Message}"));
        }

        return (null, MissingImage($"The multipart body has no part named '{FieldName}'."));
    }

    /// <summary>
    /// Reads the file parts named in <paramref name="fields"/> (each at most <paramref name="maxBytesPerFile"/>),
    /// ignoring other parts; returns what was found, or the problem that stopped the reading.
    /// </summary>
    public static async Task<(Dictionary<string, ImageUpload>? Files, ProblemHttpResult? Problem)> ReadFilesAsync(
        HttpRequest request,
        IReadOnlyCollection<string> fields,
        long maxBytesPerFile,
        CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(fields);
        string expected = string.Join(", ", fields);
        if (!MediaTypeHeaderValue.TryParse(request.ContentType, out MediaTypeHeaderValue? contentType)
            || !contentType.MediaType.Equals("multipart/form-data", StringComparison.OrdinalIgnoreCase))
        {
            return (null, ProblemResults.Create(
                StatusCodes.Status415UnsupportedMediaType,
                "Unsupported media type",
                $"Send multipart/form-data with the file fields {expected} (got Content-Type '{request.ContentType ?? "none"}').",
                ProblemTypes.UnsupportedMediaType));
        }

        string boundary = HeaderUtilities.RemoveQuotes(contentType.Boundary).Value ?? "";
        if (boundary.Length == 0)
        {
            return (null, MissingImage("The multipart Content-Type has no boundary."));
        }

        long bodyLimit = (maxBytesPerFile * fields.Count) + FramingAllowance;
        var files = new Dictionary<string, ImageUpload>(StringComparer.Ordinal);
        var reader = new MultipartReader(boundary, request.Body) { BodyLengthLimit = bodyLimit };
        try
        {
            MultipartSection? section;
            while ((section = await reader.ReadNextSectionAsync(cancellationToken).ConfigureAwait(false)) is not null)
            {
                if (!ContentDispositionHeaderValue.TryParse(section.ContentDisposition, out ContentDispositionHeaderValue? disposition))
                {
                    continue;
                }

                string? name = HeaderUtilities.RemoveQuotes(disposition.Name).Value;
                if (name is null || !fields.Contains(name) || files.ContainsKey(name))
                {
                    continue;
                }

                string? fileName = HeaderUtilities.RemoveQuotes(disposition.FileName).Value;
                (ImageUpload? upload, ProblemHttpResult? problem) = await ReadSectionAsync(section.Body, fileName, maxBytesPerFile, cancellationToken).ConfigureAwait(false);
                if (upload is null)
                {
                    Dispose(files);
                    return (null, problem);
                }

                files[name] = upload;
            }
        }
        catch (Exception ex) when (ex is BadHttpRequestException or InvalidDataException or IOException)
        {
            Dispose(files);
            bool tooLarge = ex is BadHttpRequestException { StatusCode: StatusCodes.Status413PayloadTooLarge }
                || (ex is InvalidDataException && ex.Message.Contains("limit", StringComparison.OrdinalIgnoreCase));
            return tooLarge
                ? (null, TooLarge($"The upload exceeds the limit of {maxBytesPerFile} bytes per file."))
                : (null, MissingImage($"The multipart body could not be read: {ex.Message}"));
        }

        return (files, null);
    }

    private static void Dispose(Dictionary<string, ImageUpload> files)
    {
        foreach (ImageUpload upload in files.Values)
        {
            upload.Dispose();
        }
    }

    private static async Task<(ImageUpload?, ProblemHttpResult?)> ReadSectionAsync(Stream body, string? fileName, long maxBytes, CancellationToken cancellationToken)
    {
        byte[] buffer = ArrayPool<byte>.Shared.Rent(64 * 1024);
        int length = 0;
        try
        {
            while (true)
            {
                if (length == buffer.Length)
                {
                    if (length > maxBytes)
                    {
                        break;
                    }

                    byte[] larger = ArrayPool<byte>.Shared.Rent((int)Math.Min((long)buffer.Length * 2, maxBytes + 1));
                    buffer.AsSpan(0, length).CopyTo(larger);
                    ArrayPool<byte>.Shared.Return(buffer);
                    buffer = larger;
                }

                int read = await body.ReadAsync(buffer.AsMemory(length), cancellationToken).ConfigureAwait(false);
                if (read == 0)
                {
                    break;
                }

                length += read;
            }

            if (length > maxBytes)
            {
                ArrayPool<byte>.Shared.Return(buffer);
                return (null, TooLarge($"The image is larger than the limit of {maxBytes} bytes."));
            }

            return (new ImageUpload(buffer, length, fileName), null);
        }
        catch
        {
            ArrayPool<byte>.Shared.Return(buffer);
            throw;
        }
    }

    private static ProblemHttpResult MissingImage(string detail) =>
        ProblemResults.Create(StatusCodes.Status400BadRequest, "Missing image", detail, ProblemTypes.MissingImage);

    private static ProblemHttpResult TooLarge(string detail) =>
        ProblemResults.Create(StatusCodes.Status413PayloadTooLarge, "Image too large", detail, ProblemTypes.ImageTooLarge);
}
