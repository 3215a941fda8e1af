using Microsoft.AspNetCore.WebUtilities;
using Microsoft.Extensions.Options;
using Microsoft.Net.Http.Headers;
using SegServe.Api.Problems;
using SegServe.Inference;
using SegServe.Inference.Imaging;
using SegServe.Inference.Memory;

namespace SegServe.Api.Uploads;

/// <summary>One file part of a multipart upload, in a pooled buffer; dispose it to return the buffer.</summary>
public sealed class UploadedFile(string field, string? fileName, PooledBytes content) : IDisposable
{
    public string Field { get; } = field;

    public string? FileName { get; } = fileName;

    public ReadOnlyMemory<byte> Content => content.Memory;

    public void Dispose() => content.Dispose();
}

/// <summary>The file parts of one upload, by field name; disposing it returns every buffer.</summary>
public sealed class UploadedFiles : IDisposable
{
    private readonly Dictionary<string, UploadedFile> _files = new(StringComparer.Ordinal);

    public UploadedFile? this[string field] => _files.GetValueOrDefault(field);

    /// <summary>The field's file.</summary>
    /// <exception cref="UploadRejectedException">The upload has no such field (400, naming it and why it is needed).</exception>
    public UploadedFile Require(string field, string why) =>
        this[field] ?? throw new UploadRejectedException(UploadFault.MissingFile, why, field);

    internal int Count => _files.Count;

    internal bool Contains(string field) => _files.ContainsKey(field);

    /// <summary>Hands one file over to the caller: disposing the collection no longer disposes it.</summary>
    internal void Detach(string field) => _files.Remove(field);

    internal void Add(UploadedFile file) => _files[file.Field] = file;

    public void Dispose()
    {
        foreach (UploadedFile file in _files.Values)
        {
            file.Dispose();
        }

        _files.Clear();
    }
}

/// <summary>
/// Streams the file parts of a multipart upload straight into pooled buffers (no temporary files, no form collection),
/// stopping as soon as a file or the body passes its limit.
/// </summary>
public sealed class UploadReader(IOptions<InferenceOptions> options)
{
    /// <summary>The field that carries the image of segment and overlay requests.</summary>
    public const string ImageField = "image";

    /// <summary>Room for the other parts and multipart framing around files of the maximum size.</summary>
    public const long FramingAllowance = 1024 * 1024;

    /// <summary>The body limit of an endpoint that takes up to <paramref name="files"/> files of <paramref name="maxBytes"/> each.</summary>
    public static long BodyLimit(long maxBytes, int files) => (maxBytes * files) + FramingAllowance;

    private readonly long _maxBytes = options.Value.Images.MaxBytes;

    /// <summary>The <c>image</c> part.</summary>
    /// <exception cref="UploadRejectedException">The body is not multipart, is malformed or too large, or has no <c>image</c>.</exception>
    /// <exception cref="ImageRejectedException">The image is larger than the byte limit.</exception>
    public async Task<UploadedFile> ReadImageAsync(HttpRequest request, CancellationToken cancellationToken)
    {
        using UploadedFiles files = await ReadFilesAsync(request, [ImageField], cancellationToken).ConfigureAwait(false);
        UploadedFile image = files.Require(ImageField, $"The multipart body has no part named '{ImageField}'.");
        files.Detach(ImageField);
        return image;
    }

    /// <summary>The parts named in <paramref name="fields"/> (each within the byte limit); other parts are skipped.</summary>
    /// <exception cref="UploadRejectedException">The body is not multipart, is malformed or too large.</exception>
    /// <exception cref="ImageRejectedException">A file is larger than the byte limit.</exception>
    public async Task<UploadedFiles> ReadFilesAsync(HttpRequest request, IReadOnlyCollection<string> fields, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(fields);
        // The endpoint's own body limit (its request-size metadata, enforced by Kestrel) when it is the tighter one.
        long bodyLimit = Math.Min(
            (_maxBytes * fields.Count) + FramingAllowance,
            request.HttpContext.Features.Get<Microsoft.AspNetCore.Http.Features.IHttpMaxRequestBodySizeFeature>()?.MaxRequestBodySize ?? long.MaxValue);
        MultipartReader reader = Open(request, fields, bodyLimit);
        var files = new UploadedFiles();
        try
        {
            MultipartSection? section;
            while (files.Count < fields.Count && (section = await reader.ReadNextSectionAsync(cancellationToken).ConfigureAwait(false)) is not null)
            {
                if (!ContentDispositionHeaderValue.TryParse(section.ContentDisposition, out ContentDispositionHeaderValue? disposition)
                    || HeaderUtilities.RemoveQuotes(disposition.Name).Value is not string name
                    || !fields.Contains(name)
                    || files.Contains(name))
                {
                    continue;
                }

                PooledBytes content = await PooledBytes.ReadAsync(section.Body, _maxBytes, cancellationToken).ConfigureAwait(false)
                    ?? throw new ImageRejectedException(ImageRejection.TooManyBytes, $"The file '{name}' is larger than the limit of {_maxBytes} bytes.");
                files.Add(new UploadedFile(name, HeaderUtilities.RemoveQuotes(disposition.FileName).Value, content));
            }

            return files;
        }
        catch (Exception ex) when (ex is BadHttpRequestException or InvalidDataException or IOException)
        {
            files.Dispose();
            // MultipartReader reports malformed framing, its header limits and the body limit alike as InvalidDataException:
            // only the body limit means the upload is too large (too many or too long part headers, or a long preamble,
            // are a malformed body and are named as such).
            bool tooLarge = ex is BadHttpRequestException { StatusCode: StatusCodes.Status413PayloadTooLarge }
                || (ex is InvalidDataException && ex.Message.Contains("body length limit", StringComparison.OrdinalIgnoreCase));
            if (ex is BadHttpRequestException { StatusCode: StatusCodes.Status408RequestTimeout })
            {
                throw new UploadRejectedException(UploadFault.TooSlow, ProblemCatalog.SlowBody);
            }

            throw tooLarge
                ? new UploadRejectedException(UploadFault.TooLarge, $"The request body is larger than uploads may be ({bodyLimit} bytes: {_maxBytes} per file and the multipart framing).")
                : ex is IOException
                    ? new UploadRejectedException(UploadFault.Malformed, "The multipart body ended before its closing boundary: parts are separated by CRLF line endings, and the body ends with --boundary--.")
                    : new UploadRejectedException(UploadFault.Malformed, $"The multipart body could not be read: {ex.Message}");
        }
        catch
        {
            files.Dispose();
            throw;
        }
    }

    private const int MaxBoundaryLength = 70;

    private MultipartReader Open(HttpRequest request, IReadOnlyCollection<string> fields, long bodyLimit)
    {
        if (!MediaTypeHeaderValue.TryParse(request.ContentType, out MediaTypeHeaderValue? contentType)
            || !contentType.MediaType.Equals("multipart/form-data", StringComparison.OrdinalIgnoreCase))
        {
            string expected = fields.Count == 1 ? $"a file field named '{fields.First()}'" : $"the file fields {string.Join(", ", fields)}";
            throw new UploadRejectedException(UploadFault.NotMultipart, $"Send multipart/form-data with {expected} (got Content-Type '{request.ContentType ?? "none"}').");
        }

        string boundary = HeaderUtilities.RemoveQuotes(contentType.Boundary).Value ?? "";
        if (boundary.Length == 0)
        {
            throw new UploadRejectedException(UploadFault.Malformed, "The multipart Content-Type has no boundary.");
        }

        // RFC 2046 allows boundaries of 1–70 characters; MultipartReader cannot buffer much longer ones and would throw.
        if (boundary.Length > MaxBoundaryLength)
        {
            throw new UploadRejectedException(UploadFault.Malformed, $"The multipart boundary is {boundary.Length} characters long; at most {MaxBoundaryLength} are allowed (RFC 2046).");
        }

        if (request.ContentLength > bodyLimit)
        {
            throw new UploadRejectedException(UploadFault.TooLarge, $"The request body is {request.ContentLength} bytes; uploads are limited to {bodyLimit} bytes ({_maxBytes} per file and the multipart framing).");
        }

        return new MultipartReader(boundary, request.Body) { BodyLengthLimit = bodyLimit };
    }
}
