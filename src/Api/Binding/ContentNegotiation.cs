using Microsoft.Net.Http.Headers;
using SegServe.Api.Problems;

namespace SegServe.Api.Binding;

/// <summary>Chooses a response's media type from the request's <c>Accept</c> header.</summary>
public static class ContentNegotiation
{
    public const string Json = "application/json";
    public const string Png = "image/png";
    public const string Jpeg = "image/jpeg";

    /// <summary>The first of <paramref name="offered"/> the Accept header allows, by quality; the first offered without a header.</summary>
    /// <exception cref="NotAcceptableException">The header allows none of them (406).</exception>
    public static string Choose(HttpRequest request, params string[] offered)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(offered);
        Microsoft.Extensions.Primitives.StringValues accept = request.Headers.Accept;
        if (accept.Count == 0 || !MediaTypeHeaderValue.TryParseList(accept, out IList<MediaTypeHeaderValue>? ranges) || ranges.Count == 0)
        {
            return offered[0];
        }

        string? best = null;
        double bestQuality = 0;
        foreach (string candidate in offered)
        {
            var candidateType = new MediaTypeHeaderValue(candidate);
            foreach (MediaTypeHeaderValue range in ranges)
            {
                double quality = range.Quality ?? 1.0;
                if (quality > bestQuality && candidateType.IsSubsetOf(range))
                {
                    best = candidate;
                    bestQuality = quality;
                }
            }
        }

        return best ?? throw new NotAcceptableException(string.Join(" or ", offered), accept.ToString());
    }
}
