using System.Globalization;
using System.Text;

namespace SegServe.Tools.Hostile;

/// <summary>
/// Builds the hostile corpus in memory from a seed: the same seed gives the same requests, byte for byte.
/// Categories: images (truncations, bit flips, bombs, wrong magic, variants, EXIF), multipart framing, query and
/// path values, evaluation inputs (semantic, COCO instances, zips), concurrency (slow bodies, spikes) and keys.
/// </summary>
public sealed class CorpusGenerator(int seed)
{
    public const string SemanticRun = "{run:semantic}";
    public const string InstancesRun = "{run:instances}";

    /// <summary>The service's default pixel limit (Inference:Images:MaxPixels).</summary>
    public const long PixelLimit = 40_000_000;

    public static readonly string[] Categories =
    [
        "image-truncation", "image-bitflip", "image-bomb", "image-magic", "image-variant", "image-exif",
        "multipart", "query", "path", "eval-semantic", "eval-coco", "eval-zip", "slow", "spike", "auth",
    ];

    private readonly List<HostileRequest> _requests = [];
    private readonly Random _random = new(seed);
    private int _boundaryCounter;

    public IReadOnlyList<HostileRequest> Generate()
    {
        _requests.Clear();
        List<(string Name, string MediaType, byte[] Data)> bases = SampleImages.Bases(seed);
        Truncations(bases);
        BitFlips(bases);
        Bombs(bases);
        WrongMagic(bases);
        Variants();
        Exif();
        MultipartFraming(bases[1].Data);
        Queries(bases[1].Data);
        Paths(bases[1].Data);
        EvalSemantic(bases[0].Data);
        EvalCoco();
        EvalZip();
        Slow(bases[1].Data);
        Spikes(bases[1].Data);
        Auth(bases[1].Data);
        return _requests;
    }

    private string Boundary() => "hostile" + seed.ToString(CultureInfo.InvariantCulture) + "x" + (_boundaryCounter++).ToString(CultureInfo.InvariantCulture);

    private void Add(HostileRequest request) => _requests.Add(request with { Id = _requests.Count + 1 });

    private void Upload(string category, string name, byte[] data, string mediaType = "image/png", string path = "/v1/models/selfie/segment",
        long validPixels = 0, string field = "image", IReadOnlyList<KeyValuePair<string, string>>? headers = null, int? expectedServerError = null)
    {
        (byte[] body, string contentType) = Crafted.Multipart(Boundary(), (field, "f." + mediaType[(mediaType.IndexOf('/', StringComparison.Ordinal) + 1)..], mediaType, data));
        Add(new HostileRequest
        {
            Id = 0, Category = category, Name = name, Path = path, Body = body, ContentType = contentType, ValidPixels = validPixels, Headers = headers ?? [],
            ExpectedServerError = expectedServerError,
        });
    }

    private void Files(string category, string name, string path, params (string Field, string FileName, string MediaType, byte[] Data)[] parts) =>
        Files(category, name, path, validPixels: 0, parts);

    // validPixels: the pixels of the valid images among the files (label maps near the pixel limit are held to seconds
    // per megapixel, as images are).
    private void Files(string category, string name, string path, long validPixels, params (string Field, string FileName, string MediaType, byte[] Data)[] parts)
    {
        (byte[] body, string contentType) = Crafted.Multipart(Boundary(), parts);
        Add(new HostileRequest { Id = 0, Category = category, Name = name, Path = path, Body = body, ContentType = contentType, ValidPixels = validPixels });
    }

    private void Json(string category, string name, string path, string json, string method = "POST") =>
        Add(new HostileRequest { Id = 0, Category = category, Name = name, Path = path, Method = method, Body = Encoding.UTF8.GetBytes(json), ContentType = "application/json" });

    private void Raw(string category, string name, byte[] message) =>
        Add(new HostileRequest { Id = 0, Category = category, Name = name, Transport = Transport.Raw, Body = message });

    // ------------------------------------------------------------------------------------------------ images

    private void Truncations(List<(string Name, string MediaType, byte[] Data)> bases)
    {
        foreach ((string name, string mediaType, byte[] data) in bases)
        {
            for (int length = 0; length < data.Length; length++)
            {
                Upload("image-truncation", $"{name}[..{length}]", data[..length], mediaType);
            }
        }
    }

    private void BitFlips(List<(string Name, string MediaType, byte[] Data)> bases)
    {
        foreach ((string name, string mediaType, byte[] data) in bases)
        {
            for (int i = 0; i < 48; i++)
            {
                byte[] copy = (byte[])data.Clone();
                int bit = _random.Next(copy.Length * 8);
                copy[bit / 8] ^= (byte)(1 << (bit % 8));
                Upload("image-bitflip", $"{name} bit {bit}", copy, mediaType);
            }

            for (int i = 0; i < 16; i++)
            {
                byte[] copy = (byte[])data.Clone();
                int at = _random.Next(copy.Length);
                int run = Math.Min(copy.Length - at, 1 + _random.Next(16));
                _random.NextBytes(copy.AsSpan(at, run));
                Upload("image-bitflip", $"{name} garbled {at}+{run}", copy, mediaType);
            }

            // the header fields themselves: every byte of the first 40 set to 0xFF
            for (int at = 0; at < Math.Min(40, data.Length); at++)
            {
                byte[] copy = (byte[])data.Clone();
                copy[at] = 0xFF;
                Upload("image-bitflip", $"{name} byte {at}=FF", copy, mediaType);
            }
        }
    }

    private void Bombs(List<(string Name, string MediaType, byte[] Data)> bases)
    {
        Upload("image-bomb", "gif 1000x1000 screen, 200 1x1 frames", Crafted.GifFrameBomb(1000, 1000, 200), "image/gif", validPixels: 1_000_000);
        Upload("image-bomb", "gif 65535x65535 screen, 2 frames", Crafted.GifFrameBomb(65535, 65535, 2), "image/gif");
        Upload("image-bomb", "gif 1000x1000 screen, 5000 frames", Crafted.GifFrameBomb(1000, 1000, 5000), "image/gif", validPixels: 1_000_000);
        Upload("image-bomb", "png 1x2000000", Crafted.UniformGreyPng(1, 2_000_000, 90), validPixels: 2_000_000);
        Upload("image-bomb", "png 2000000x1", Crafted.UniformGreyPng(2_000_000, 1, 90), validPixels: 2_000_000);
        Upload("image-bomb", "png zTXt 200 MB text", Crafted.ZtxtBombPng(200_000_000));
        Upload("image-bomb", "png 8000x5000 (at the limit)", Crafted.UniformGreyPng(8000, 5000, 128), validPixels: 40_000_000);
        Upload("image-bomb", "png 6000x5000 (under the limit)", Crafted.UniformGreyPng(6000, 5000, 200), validPixels: 30_000_000);
        Upload("image-bomb", "png 8000x5001 (over the limit)", Crafted.UniformGreyPng(8000, 5001, 128));
        Upload("image-bomb", "png declares 8000x5000, data for a row", Crafted.DeclaredPng(8000, 5000), validPixels: 40_000_000);
        Upload("image-bomb", "png declares 40000001x1", Crafted.DeclaredPng(40_000_001, 1));
        Upload("image-bomb", "png declares 65535x65535", Crafted.DeclaredPng(65535, 65535));
        Upload("image-bomb", "png declares 2^31-1 x 2^31-1", Crafted.DeclaredPng(int.MaxValue, int.MaxValue));
        Upload("image-bomb", "png declares 0x0", Crafted.DeclaredPng(0, 0));
        Upload("image-bomb", "png declares 4294967295x1", Crafted.DeclaredPng(uint.MaxValue, 1));
        byte[] jpeg = bases[1].Data;
        foreach ((ushort w, ushort h, long valid) in new[] { ((ushort)8000, (ushort)5000, 40_000_000L), ((ushort)8000, (ushort)5001, 0L), ((ushort)65535, (ushort)65535, 0L), ((ushort)6000, (ushort)5000, 30_000_000L), ((ushort)0, (ushort)0, 0L) })
        {
            Upload("image-bomb", $"jpeg declares {w}x{h}", SampleImages.JpegDeclaring(jpeg, w, h), "image/jpeg", validPixels: valid);
        }

        foreach ((string name, _, byte[] webp) in bases.Where(b => b.Name.StartsWith("webp", StringComparison.Ordinal)))
        {
            foreach ((int w, int h, long valid) in new[] { (8000, 5000, 40_000_000L), (8000, 5001, 0L), (16383, 16383, 0L), (6000, 5000, 30_000_000L) })
            {
                Upload("image-bomb", $"{name} declares {w}x{h}", SampleImages.WebpDeclaring(webp, w, h), "image/webp", validPixels: valid);
            }
        }

        // BMP and TGA headers declaring huge sizes
        byte[] bmp = (byte[])bases[3].Data.Clone();
        BitConverter.TryWriteBytes(bmp.AsSpan(18), 100_000);
        BitConverter.TryWriteBytes(bmp.AsSpan(22), 100_000);
        Upload("image-bomb", "bmp declares 100000x100000", bmp, "image/bmp");
        byte[] bmpNegative = (byte[])bases[3].Data.Clone();
        BitConverter.TryWriteBytes(bmpNegative.AsSpan(22), int.MinValue);
        Upload("image-bomb", "bmp declares height -2^31", bmpNegative, "image/bmp");
        byte[] tga = (byte[])bases[7].Data.Clone();
        tga[12] = 0xFF; tga[13] = 0xFF; tga[14] = 0xFF; tga[15] = 0xFF;
        Upload("image-bomb", "tga declares 65535x65535", tga, "image/x-tga");
        // a uniform PNG costing nothing to send and 40 MP to decode, sent to overlay too (the response is an image)
        Upload("image-bomb", "png 8000x5000 overlay", Crafted.UniformGreyPng(8000, 5000, 60), path: "/v1/models/selfie/overlay?format=jpeg", validPixels: 40_000_000);
    }

    private void WrongMagic(List<(string Name, string MediaType, byte[] Data)> bases)
    {
        var payloads = new List<(string, byte[])>
        {
            ("empty", []),
            ("one byte", [0x89]),
            ("text", "hello, this is not an image"u8.ToArray()),
            ("html", "<!doctype html><html><body>x</body></html>"u8.ToArray()),
            ("svg", "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"100000\" height=\"100000\"/>"u8.ToArray()),
            ("pdf", "%PDF-1.7\n%\u00e2\u00e3\n1 0 obj<<>>endobj"u8.ToArray()),
            ("elf", [0x7F, 0x45, 0x4C, 0x46, 2, 1, 1, 0, 0, 0, 0, 0]),
            ("zip", Crafted.Zip([new Crafted.ZipEntrySpec("a.png", bases[0].Data)])),
            ("gzip", [0x1F, 0x8B, 8, 0, 0, 0, 0, 0, 0, 3, 3, 0, 0, 0, 0, 0, 0, 0, 0, 0]),
            ("ico", [0, 0, 1, 0, 1, 0, 16, 16, 0, 0, 1, 0, 32, 0, 0, 0, 0, 0, 22, 0, 0, 0]),
            ("heic ftyp", [0, 0, 0, 24, (byte)'f', (byte)'t', (byte)'y', (byte)'p', (byte)'h', (byte)'e', (byte)'i', (byte)'c', 0, 0, 0, 0, (byte)'m', (byte)'i', (byte)'f', (byte)'1', (byte)'h', (byte)'e', (byte)'i', (byte)'c']),
            ("avif ftyp", [0, 0, 0, 20, (byte)'f', (byte)'t', (byte)'y', (byte)'p', (byte)'a', (byte)'v', (byte)'i', (byte)'f', 0, 0, 0, 0, (byte)'a', (byte)'v', (byte)'i', (byte)'f']),
            ("jpeg xl", [0xFF, 0x0A, 0xFA, 0x7F]),
            ("qoi", "qoif\0\0\0\x10\0\0\0\x10\x04\x00"u8.ToArray()),
            ("psd", "8BPS\0\x01"u8.ToArray()),
            ("riff wave", "RIFF\x24\0\0\0WAVEfmt "u8.ToArray()),
            ("riff webp empty", "RIFF\x04\0\0\0WEBP"u8.ToArray()),
            ("riff webp huge size", "RIFF\xff\xff\xff\xffWEBPVP8X\x0a\0\0\0\0\0\0\0\xff\xff\xff\xff\xff\xff"u8.ToArray()),
            ("png signature only", Crafted.PngSignature),
            ("jpeg SOI+EOI", [0xFF, 0xD8, 0xFF, 0xD9]),
            ("gif header only", "GIF89a"u8.ToArray()),
            ("bmp BM only", "BM"u8.ToArray()),
            ("tiff II*", [0x49, 0x49, 0x2A, 0x00]),
            ("tiff MM* offset loop", [0x4D, 0x4D, 0x00, 0x2A, 0, 0, 0, 0]),
            ("zeros 4 KiB", new byte[4096]),
        };
        var random = new byte[2048];
        _random.NextBytes(random);
        payloads.Add(("random 2 KiB", random));
        foreach ((string name, byte[] data) in payloads)
        {
            Upload("image-magic", name, data, "image/png");
        }

        // each format's body behind another format's signature, and with its own signature zeroed
        foreach ((string name, string mediaType, byte[] data) in bases)
        {
            foreach ((string other, _, byte[] otherData) in bases)
            {
                if (other == name || other.StartsWith("webp", StringComparison.Ordinal) && name.StartsWith("webp", StringComparison.Ordinal))
                {
                    continue;
                }

                byte[] copy = (byte[])data.Clone();
                int n = Math.Min(8, Math.Min(copy.Length, otherData.Length));
                otherData.AsSpan(0, n).CopyTo(copy);
                Upload("image-magic", $"{name} behind {other} magic", copy, mediaType);
            }

            byte[] zeroed = (byte[])data.Clone();
            zeroed.AsSpan(0, Math.Min(4, zeroed.Length)).Clear();
            Upload("image-magic", $"{name} magic zeroed", zeroed, mediaType);
            Upload("image-magic", $"{name} declared as text/plain", data, "text/plain");
            Upload("image-magic", $"{name} declared as application/octet-stream", data, "application/octet-stream");
        }
    }

    private void Variants()
    {
        foreach ((string name, string mediaType, byte[] data) in SampleImages.Variants(seed))
        {
            Upload("image-variant", name, data, mediaType);
            Upload("image-variant", name + " overlay", data, mediaType, path: "/v1/models/selfie/overlay?outline=true&legend=true");
        }
    }

    private void Exif()
    {
        foreach (ushort orientation in new ushort[] { 1, 2, 3, 4, 5, 6, 7, 8, 0, 9, 255, 65535 })
        {
            Upload("image-exif", $"jpeg orientation {orientation}", SampleImages.JpegWithOrientation(orientation, seed), "image/jpeg");
            Upload("image-exif", $"png orientation {orientation}", SampleImages.PngWithOrientation(orientation, seed));
            Upload("image-exif", $"jpeg orientation {orientation} overlay", SampleImages.JpegWithOrientation(orientation, seed), "image/jpeg",
                path: "/v1/models/selfie/overlay?effect=blur&radius=3");
        }

        // an EXIF block that is itself damaged: APP1 with a length past the end, and an IFD offset loop
        byte[] jpeg = SampleImages.JpegWithOrientation(6, seed);
        int app1 = jpeg.AsSpan().IndexOf([(byte)0xFF, (byte)0xE1]);
        if (app1 > 0)
        {
            byte[] longApp1 = (byte[])jpeg.Clone();
            longApp1[app1 + 2] = 0xFF;
            longApp1[app1 + 3] = 0xFF;
            Upload("image-exif", "jpeg APP1 length 65535", longApp1, "image/jpeg");
            byte[] loop = (byte[])jpeg.Clone();
            int tiff = app1 + 10;
            loop.AsSpan(tiff + 4, 4).Clear();
            loop[tiff + (loop[tiff] == 'I' ? 4 : 7)] = 8;
            Upload("image-exif", "jpeg EXIF IFD offset points at itself", loop, "image/jpeg");
            for (int i = 0; i < 24; i++)
            {
                byte[] flipped = (byte[])jpeg.Clone();
                flipped[app1 + 4 + _random.Next(Math.Min(120, jpeg.Length - app1 - 4))] ^= (byte)(1 << _random.Next(8));
                Upload("image-exif", $"jpeg EXIF bit flip {i}", flipped, "image/jpeg");
            }
        }
    }

    // ------------------------------------------------------------------------------------------------ multipart framing

    private void MultipartFraming(byte[] jpeg)
    {
        const string Seg = "POST /v1/models/selfie/segment HTTP/1.1";
        string b = "rawb" + seed.ToString(CultureInfo.InvariantCulture);
        string ct = "Content-Type: multipart/form-data; boundary=" + b;
        byte[] Part(string headers, byte[] data, string eol = "\r\n") =>
            [.. Encoding.UTF8.GetBytes($"--{b}{eol}{headers}{eol}{eol}"), .. data, .. Encoding.UTF8.GetBytes(eol)];
        byte[] End(string eol = "\r\n") => Encoding.UTF8.GetBytes($"--{b}--{eol}");
        const string Disposition = "Content-Disposition: form-data; name=\"image\"; filename=\"a.jpg\"\r\nContent-Type: image/jpeg";
        byte[] good = [.. Part(Disposition, jpeg), .. End()];

        Raw("multipart", "well-formed (control)", Crafted.RawRequest(Seg, [ct], good));
        Raw("multipart", "part header 100 KiB", Crafted.RawRequest(Seg, [ct], [.. Part(Disposition + "\r\nX-Pad: " + new string('a', 100 * 1024), jpeg), .. End()]));
        Raw("multipart", "part header line 20 KiB filename", Crafted.RawRequest(Seg, [ct], [.. Part($"Content-Disposition: form-data; name=\"image\"; filename=\"{new string('f', 20 * 1024)}.jpg\"\r\nContent-Type: image/jpeg", jpeg), .. End()]));
        Raw("multipart", "1000 part headers", Crafted.RawRequest(Seg, [ct], [.. Part(Disposition + string.Concat(Enumerable.Range(0, 1000).Select(i => $"\r\nX-H{i}: v")), jpeg), .. End()]));
        foreach (int parts in new[] { 100, 5000, 20000 })
        {
            var many = new List<byte>();
            for (int i = 0; i < parts; i++)
            {
                many.AddRange(Part($"Content-Disposition: form-data; name=\"f{i}\"", "x"u8.ToArray()));
            }

            many.AddRange(Part(Disposition, jpeg));
            many.AddRange(End());
            Raw("multipart", $"{parts} parts before the image", Crafted.RawRequest(Seg, [ct], [.. many]));
        }

        {
            var images = new List<byte>();
            for (int i = 0; i < 50; i++)
            {
                images.AddRange(Part(Disposition, jpeg));
            }

            images.AddRange(End());
            Raw("multipart", "50 image parts", Crafted.RawRequest(Seg, [ct], [.. images]));
        }

        Raw("multipart", "preamble 1 KiB", Crafted.RawRequest(Seg, [ct], [.. Encoding.UTF8.GetBytes(new string('p', 1024) + "\r\n"), .. good]));
        Raw("multipart", "preamble 2 MiB", Crafted.RawRequest(Seg, [ct], [.. new byte[2 * 1024 * 1024], .. "\r\n"u8.ToArray(), .. good]));
        Raw("multipart", "epilogue 64 KiB", Crafted.RawRequest(Seg, [ct], [.. good, .. new byte[64 * 1024]]));
        Raw("multipart", "LF-only line endings", Crafted.RawRequest(Seg, [ct], [.. Part(Disposition.Replace("\r\n", "\n", StringComparison.Ordinal), jpeg, "\n"), .. End("\n")]));
        Raw("multipart", "CR-only line endings", Crafted.RawRequest(Seg, [ct], [.. Part(Disposition.Replace("\r\n", "\r", StringComparison.Ordinal), jpeg, "\r"), .. End("\r")]));
        Raw("multipart", "no boundary parameter", Crafted.RawRequest(Seg, ["Content-Type: multipart/form-data"], good));
        Raw("multipart", "empty boundary", Crafted.RawRequest(Seg, ["Content-Type: multipart/form-data; boundary="], good));
        Raw("multipart", "boundary 200 chars", Crafted.RawRequest(Seg, ["Content-Type: multipart/form-data; boundary=" + new string('b', 200)], good));
        Raw("multipart", "boundary 8 KiB", Crafted.RawRequest(Seg, ["Content-Type: multipart/form-data; boundary=" + new string('b', 8192)], good));
        Raw("multipart", "boundary mismatch", Crafted.RawRequest(Seg, ["Content-Type: multipart/form-data; boundary=other"], good));
        Raw("multipart", "quoted boundary with spaces", Crafted.RawRequest(Seg, [$"Content-Type: multipart/form-data; boundary=\" {b} \""], good));
        Raw("multipart", "no closing boundary", Crafted.RawRequest(Seg, [ct], Part(Disposition, jpeg)));
        Raw("multipart", "body stops inside the image", Crafted.RawRequest(Seg, [ct], good[..(good.Length / 2)]));
        Raw("multipart", "no part headers", Crafted.RawRequest(Seg, [ct], [.. Part("", jpeg), .. End()]));
        Raw("multipart", "part without name", Crafted.RawRequest(Seg, [ct], [.. Part("Content-Disposition: form-data; filename=\"a.jpg\"", jpeg), .. End()]));
        Raw("multipart", "disposition not form-data", Crafted.RawRequest(Seg, [ct], [.. Part("Content-Disposition: attachment; name=\"image\"", jpeg), .. End()]));
        Raw("multipart", "image field without file name", Crafted.RawRequest(Seg, [ct], [.. Part("Content-Disposition: form-data; name=\"image\"", jpeg), .. End()]));
        Raw("multipart", "image field twice", Crafted.RawRequest(Seg, [ct], [.. Part(Disposition, jpeg), .. Part(Disposition, jpeg), .. End()]));
        Raw("multipart", "unicode field name", Crafted.RawRequest(Seg, [ct], [.. Part("Content-Disposition: form-data; name=\"ïmågé\"; filename=\"ü.jpg\"", jpeg), .. End()]));
        Raw("multipart", "filename* RFC 5987", Crafted.RawRequest(Seg, [ct], [.. Part("Content-Disposition: form-data; name=\"image\"; filename*=UTF-8''%E2%82%AC%00.jpg", jpeg), .. End()]));
        Raw("multipart", "only the closing boundary", Crafted.RawRequest(Seg, [ct], End()));
        Raw("multipart", "empty body", Crafted.RawRequest(Seg, [ct], []));
        Raw("multipart", "missing Content-Length and chunking", Crafted.RawRequest(Seg, [ct], [], contentLength: -1));
        Raw("multipart", "Content-Length 10 GiB", Crafted.RawRequest(Seg, [ct], good, contentLength: 10L * 1024 * 1024 * 1024));
        Raw("multipart", "Content-Length negative", Crafted.RawRequest(Seg, [ct, "Content-Length: -5"], good, contentLength: -1));
        Raw("multipart", "Content-Length twice, differing", Crafted.RawRequest(Seg, [ct, "Content-Length: 3"], good));
        Raw("multipart", "chunked with a bad chunk size", Crafted.RawRequest(Seg, [ct, "Transfer-Encoding: chunked"], "zzz\r\nabc\r\n0\r\n\r\n"u8.ToArray(), contentLength: -1));
        Raw("multipart", "chunked, chunk size 2^64", Crafted.RawRequest(Seg, [ct, "Transfer-Encoding: chunked"], "FFFFFFFFFFFFFFFFF\r\nabc\r\n0\r\n\r\n"u8.ToArray(), contentLength: -1));
        {
            var chunked = new List<byte>();
            foreach (byte[] piece in good.Chunk(97))
            {
                chunked.AddRange(Encoding.ASCII.GetBytes(piece.Length.ToString("x", CultureInfo.InvariantCulture) + "\r\n"));
                chunked.AddRange(piece);
                chunked.AddRange("\r\n"u8.ToArray());
            }

            chunked.AddRange("0\r\n\r\n"u8.ToArray());
            Raw("multipart", "chunked, well-formed", Crafted.RawRequest(Seg, [ct, "Transfer-Encoding: chunked"], [.. chunked], contentLength: -1));
        }

        foreach (string type in new[] { "text/plain", "application/json", "application/x-www-form-urlencoded", "multipart/mixed; boundary=" + b, "image/jpeg", "multipart/form-data; boundary=" + b + "; charset=ebcdic", "", "multipart/form-data; boundary=" + b + "; boundary=x", "MULTIPART/FORM-DATA; BOUNDARY=" + b, "multipart/form-data;;;boundary=" + b })
        {
            Raw("multipart", $"Content-Type '{type}'", Crafted.RawRequest(Seg, ["Content-Type: " + type], good));
        }

        Raw("multipart", "request header 64 KiB", Crafted.RawRequest(Seg, [ct, "X-Big: " + new string('h', 64 * 1024)], good));
        Raw("multipart", "1000 request headers", Crafted.RawRequest(Seg, [ct, .. Enumerable.Range(0, 1000).Select(i => $"X-R{i}: v")], good));
        Raw("multipart", "HTTP/1.0", Crafted.RawRequest("POST /v1/models/selfie/segment HTTP/1.0", [ct], good));
        Add(new HostileRequest
        {
            Id = 0, Category = "multipart", Name = "HTTP/9.9 (505 expected)", Transport = Transport.Raw, ExpectedServerError = 505,
            Body = Crafted.RawRequest("POST /v1/models/selfie/segment HTTP/9.9", [ct], good),
        });
        Raw("multipart", "garbage request line", Crafted.RawRequest("\u0001\u0002 / HTTP/1.1", [ct], good));
        Raw("multipart", "Expect: 100-continue", Crafted.RawRequest(Seg, [ct, "Expect: 100-continue"], good));
        Raw("multipart", "gzip Content-Encoding", Crafted.RawRequest(Seg, [ct, "Content-Encoding: gzip"], good));
        Raw("multipart", "header without colon", Crafted.RawRequest(Seg, [ct, "NoColonHere"], good));
        Raw("multipart", "NUL in a header", Crafted.RawRequest(Seg, [ct, "X-Nul: a\0b"], good));
        Raw("multipart", "evaluate: 3 files, LF-only", Crafted.RawRequest("POST /v1/evaluate/semantic?numClasses=2 HTTP/1.1", [ct],
            [.. Part("Content-Disposition: form-data; name=\"prediction\"; filename=\"p.png\"", SampleImages.LabelMap(4, 4, (x, y) => x % 2), "\n"), .. End("\n")]));
    }

    // ------------------------------------------------------------------------------------------------ query and path values

    private void Queries(byte[] jpeg)
    {
        string longValue = new('9', 10_000);
        string[] segment =
        [
            "treshold=0.5", "foo=bar", "threshold=NaN", "threshold=Infinity", "threshold=-Infinity", "threshold=-1", "threshold=1.0000001",
            "threshold=1e309", "threshold=-0", "threshold=0x10", "threshold=", "threshold=%20", "threshold=%D9%A0%D9%AB%D9%A5", "threshold=%EF%BC%90.5",
            "threshold=0.1&threshold=0.2", "threshold=" + longValue, "threshold=0," + longValue, "upsample=NEAREST", "upsample=lanczos", "upsample=%00",
            "upsample=" + new string('u', 5000), "include=confidence,confidence", "include=" + string.Join(',', Enumerable.Repeat("confidence", 1000)),
            "include=%E2%80%AE", "scoreThreshold=0.5", "maxInstances=1000000000000", "maxInstances=-1", "classes=person", "tolerance=NaN",
            string.Join('&', Enumerable.Range(0, 1000).Select(i => $"p{i}=1")), "threshold=0.5&" + new string('&', 2000), "=1", "%=%", "threshold[]=1",
            "threshold=1e-400", "threshold=4.9406564584124654e-324", "threshold=+0.5", "threshold=.5", "threshold=5.",
        ];
        foreach (string query in segment)
        {
            Upload("query", "segment ?" + Shorten(query), jpeg, "image/jpeg", path: "/v1/models/selfie/segment?" + query);
        }

        string[] overlay =
        [
            "alpha=NaN", "alpha=-0.1", "alpha=1e308", "radius=1e308", "radius=0", "radius=-5", "radius=500", "radius=500.0001", "radius=NaN",
            "effect=blur&radius=500", "effect=../../etc/passwd", "effect=blur&alpha=0.5", "format=pNg", "format=gif", "format=" + longValue,
            "effect=replace&background=%23zzzzzz", "effect=replace&background=%23", "effect=replace&background=" + new string('f', 5000),
            "effect=replace&background=rebeccapurple", "effect=cutout&format=jpeg", "foreground=99999", "foreground=-1", "effect=blur&foreground=%F0%9F%98%80",
            "outline=maybe", "legend=1", "legend=TRUE", "effect=none&outline=true&legend=true&alpha=1",
        ];
        foreach (string query in overlay)
        {
            Upload("query", "overlay ?" + Shorten(query), jpeg, "image/jpeg", path: "/v1/models/selfie/overlay?" + query);
        }

        foreach (string timeout in new[] { "-1", "0", "1", "NaN", "1e30", "99999999999999999999", "", " 5 ", "0x10", longValue })
        {
            // a deadline of a few milliseconds may pass before a model run is free: 503 deadline-exceeded is the documented answer
            Upload("query", $"Request-Timeout-Ms '{Shorten(timeout)}'", jpeg, "image/jpeg", headers: [new("Request-Timeout-Ms", timeout)], expectedServerError: 503);
        }

        foreach (string accept in new[] { "image/gif", "*/*;q=0", "image/png;q=NaN", "application/json;q=2", new string('a', 8000), "image/*", "text/html,*/*;q=0.1" })
        {
            Upload("query", $"Accept '{Shorten(accept)}'", jpeg, "image/jpeg", headers: [new("Accept", accept)]);
        }

        foreach (string query in new[] { "numClasses=NaN", "numClasses=-1", "numClasses=0", "numClasses=4097", "numClasses=99999999999", "numClasses=2&ignoreIndex=-1",
            "numClasses=2&ignoreIndex=70000", "numClasses=2&palette=voc", "numClasses=2&palette=%23zz0000", "numClasses=2&palette=" + string.Join(',', Enumerable.Repeat("%23000000", 3000)),
            "numClasses=2&model=%00", "numClasses=2&bogus=1" })
        {
            byte[] map = SampleImages.LabelMap(4, 4, (x, _) => x % 2);
            Files("query", "evaluate ?" + Shorten(query), "/v1/evaluate/semantic?" + query, ("prediction", "p.png", "image/png", map), ("groundTruth", "g.png", "image/png", map));
        }

        foreach (string query in new[] { "imageId=NaN", "imageId=-1", "imageId=1e30", "imageId=" + longValue, "iouType=bbox" })
        {
            Files("query", "instances ?" + Shorten(query), "/v1/evaluate/instances?" + query, ("predictions", "p.json", "application/json", "[]"u8.ToArray()), ("groundTruth", "g.json", "application/json", CocoGroundTruth("[[0,0,0,3,3,3,3,0]]")));
        }
    }

    private void Paths(byte[] jpeg)
    {
        foreach (string path in new[]
        {
            "/v1/models/%2e%2e/segment", "/v1/models/..%2f..%2fetc/segment", "/v1/models/selfie%00/segment", "/v1/models/" + new string('m', 4000) + "/segment",
            "/v1/models/%F0%9F%98%80/segment", "/v1/models/SELFIE/segment", "/v1/models/selfie/segment/", "//v1//models//selfie//segment",
            "/v1/models/selfie/segment;jsessionid=1", "/v1/models/%ff%fe/segment", "/v1/models/selfie/segment?" + new string('q', 16_000),
            "/v1/models/selfie/reload", "/v1/models/nonexistent/overlay",
        })
        {
            Upload("path", "POST " + Shorten(path), jpeg, "image/jpeg", path: path);
        }

        foreach ((string method, string path) in new[]
        {
            ("GET", "/v1/models/selfie/segment"), ("PUT", "/v1/models/selfie/segment"), ("DELETE", "/v1/models/selfie"), ("OPTIONS", "/v1/models/selfie/segment"),
            ("PATCH", "/v1/evaluations/1"), ("GET", "/v1/evaluations/1e30"), ("GET", "/v1/evaluations/-1"), ("GET", "/v1/evaluations/" + new string('9', 5000)),
            ("GET", "/v1/evaluations/%00"), ("GET", "/v1/evaluations/..%2F..%2F"), ("GET", "/v1/evaluations/" + SemanticRun + "/report.png"),
            ("GET", "/v1/evaluations/" + InstancesRun + "/report.png"), ("GET", "/v1/models/selfie/stats?x=1"), ("GET", "/v1/models?" + new string('z', 9000) + "=1"),
            ("GET", "/health/ready?verbose=%00"), ("GET", "/swagger/v1/swagger.json"), ("GET", "/v2/anything"), ("HEAD", "/v1/models"),
        })
        {
            Add(new HostileRequest { Id = 0, Category = "path", Name = method + " " + Shorten(path), Method = method, Path = path });
        }

        Raw("path", "TRACE", Crafted.RawRequest("TRACE /v1/models HTTP/1.1", [], []));
        Raw("path", "absolute-form target", Crafted.RawRequest("GET http://127.0.0.1/v1/models HTTP/1.1", [], []));
        Raw("path", "asterisk target", Crafted.RawRequest("OPTIONS * HTTP/1.1", [], []));
        Raw("path", "raw unicode in path", Crafted.RawRequest("GET /v1/models/séłfíe HTTP/1.1", [], []));
        Raw("path", "request line 60 KiB", Crafted.RawRequest("GET /" + new string('a', 60 * 1024) + " HTTP/1.1", [], []));
    }

    private static string Shorten(string value) => value.Length <= 60 ? value : value[..40] + $"…({value.Length} chars)";

    // ------------------------------------------------------------------------------------------------ evaluation inputs

    private void EvalSemantic(byte[] png)
    {
        byte[] Map(int w, int h, Func<int, int, int> v) => SampleImages.LabelMap(w, h, v);
        void Pair(string name, string query, byte[] prediction, byte[] groundTruth) =>
            Files("eval-semantic", name, "/v1/evaluate/semantic?" + query, ("prediction", "p.png", "image/png", prediction), ("groundTruth", "g.png", "image/png", groundTruth));

        Pair("numClasses 4096, 16-bit labels", "numClasses=4096", Map(64, 64, (x, y) => (x * 64 + y) % 4096), Map(64, 64, (x, y) => (y * 64 + x) % 4096));
        Pair("numClasses 4096, labels 65535", "numClasses=4096&ignoreIndex=255", Map(8, 8, (_, _) => 65535), Map(8, 8, (_, _) => 65534));
        Pair("numClasses 1024", "numClasses=1024", Map(32, 32, (x, y) => x * 32 + y), Map(32, 32, (x, y) => (x * 32 + y + 1) % 1024));
        Pair("size mismatch", "numClasses=2", Map(4, 4, (x, _) => x % 2), Map(5, 4, (x, _) => x % 2));
        Pair("prediction 1x2000000", "numClasses=2", Crafted.UniformGreyPng(1, 2_000_000, 1), Crafted.UniformGreyPng(1, 2_000_000, 0));
        Pair("ground truth declares 65535x65535", "numClasses=2", Crafted.DeclaredPng(65535, 65535), Crafted.DeclaredPng(65535, 65535));
        Files("eval-semantic", "ground truth 8000x5000", "/v1/evaluate/semantic?numClasses=2", validPixels: 80_000_000,
            ("prediction", "p.png", "image/png", Crafted.UniformGreyPng(8000, 5000, 1)), ("groundTruth", "g.png", "image/png", Crafted.UniformGreyPng(8000, 5000, 0)));
        Pair("ground truth is a JPEG", "numClasses=2", Map(4, 4, (x, _) => x % 2), SampleImages.Bases(seed)[1].Data);
        Pair("ground truth is text", "numClasses=2", Map(4, 4, (x, _) => x % 2), "not a png"u8.ToArray());
        Pair("ground truth empty", "numClasses=2", Map(4, 4, (x, _) => x % 2), []);
        Pair("ground truth truncated", "numClasses=2", Map(4, 4, (x, _) => x % 2), png[..(png.Length / 2)]);
        Pair("colour palette, colours not in it", "numClasses=2&palette=%23000000,%23ffffff", png, png);
        Pair("voc palette with grey maps", "numClasses=21&palette=voc", Map(4, 4, (x, _) => x), Map(4, 4, (x, _) => x));
        Pair("zTXt bomb as ground truth", "numClasses=2", Map(1, 1, (_, _) => 0), Crafted.ZtxtBombPng(50L * 1024 * 1024));
        Files("eval-semantic", "image through the model, ground truth 1x1", "/v1/evaluate/semantic?model=selfie",
            ("image", "i.jpg", "image/jpeg", SampleImages.Bases(seed)[1].Data), ("groundTruth", "g.png", "image/png", Map(1, 1, (_, _) => 1)));
        Files("eval-semantic", "image through an unknown model", "/v1/evaluate/semantic?model=nope&numClasses=2",
            ("image", "i.jpg", "image/jpeg", SampleImages.Bases(seed)[1].Data), ("groundTruth", "g.png", "image/png", Map(1, 1, (_, _) => 1)));
        Files("eval-semantic", "no files", "/v1/evaluate/semantic?numClasses=2", ("other", "x", "text/plain", "x"u8.ToArray()));

        foreach (string body in new[]
        {
            """{"task":"semantic","numClasses":4096}""", """{"task":"semantic","numClasses":4097}""", """{"task":"semantic","numClasses":1e30}""",
            """{"task":"semantic","numClasses":-1}""", """{"task":"semantic","numClasses":"2"}""", """{"task":"semantic","numClasses":2,"ignoreIndex":1e10}""",
            """{"task":"semantic","numClasses":2,"model":"../../x"}""", """{"task":"panoptic"}""", """{"task":null}""", """{}""", "[]", "null", "",
            "{\"task\":\"semantic\",\"numClasses\":2,\"x\":\"" + new string('x', 2 * 1024 * 1024) + "\"}",
            new string('[', 10_000) + new string(']', 10_000), """{"task":"semantic","numClasses":2,"numClasses":3}""", "\uFEFF{\"task\":\"instances\"}",
            """{"task":"semantic","numClasses":2.5}""", """{"task":"instances","numClasses":2}""",
        })
        {
            Json("eval-semantic", "create run " + Shorten(body), "/v1/evaluations", body);
        }

        // a 4096-class run, then samples into it (the totals hold 4096² counts)
        Json("eval-semantic", "create run of 4096 classes", "/v1/evaluations", """{"task":"semantic","numClasses":4096,"ignoreIndex":65535}""");
        Files("eval-semantic", "sample with 16-bit labels into the semantic run", "/v1/evaluations/" + SemanticRun + "/samples",
            ("prediction", "p.png", "image/png", Map(16, 16, (x, y) => (x + y) % 2)), ("groundTruth", "g.png", "image/png", Map(16, 16, (x, y) => 70 + x)));
        Add(new HostileRequest { Id = 0, Category = "eval-semantic", Name = "GET the semantic run", Method = "GET", Path = "/v1/evaluations/" + SemanticRun });
    }

    private static byte[] CocoGroundTruth(string segmentation, string image = """{"id":1,"width":4,"height":4}""", string extra = "\"iscrowd\":0,\"area\":9,\"id\":1") =>
        Encoding.UTF8.GetBytes($$"""{"images":[{{image}}],"annotations":[{"image_id":1,"category_id":1,"segmentation":{{segmentation}},"bbox":[0,0,3,3],{{extra}}}],"categories":[{"id":1,"name":"a"}]}""");

    private void EvalCoco()
    {
        const string GoodPredictions = """[{"image_id":1,"category_id":1,"segmentation":{"size":[4,4],"counts":"0`0"},"score":0.9}]""";
        void Pair(string name, byte[] groundTruth, string predictions = GoodPredictions, string query = "") =>
            Files("eval-coco", name, "/v1/evaluate/instances" + query, ("predictions", "p.json", "application/json", Encoding.UTF8.GetBytes(predictions)), ("groundTruth", "g.json", "application/json", groundTruth));

        Pair("control", CocoGroundTruth("[[0,0,0,3,3,3,3,0]]"));
        Pair("polygon bomb [[0,0,0,-3e8,1,0]]", CocoGroundTruth("[[0,0,0,-3e8,1,0]]"));
        Pair("polygon bomb [[0,0,3e8,0,3e8,3e8]]", CocoGroundTruth("[[0,0,3e8,0,3e8,3e8]]"));
        Pair("polygon of 200000 points", CocoGroundTruth("[[" + string.Join(',', Enumerable.Range(0, 200_000).Select(i => (i % 4).ToString(CultureInfo.InvariantCulture))) + "]]"));
        Pair("polygon with NaN-like strings", CocoGroundTruth("""[["NaN",0,1,1,0,1]]"""));
        Pair("polygon of 1 point", CocoGroundTruth("[[1,1]]"));
        Pair("polygon odd length", CocoGroundTruth("[[0,0,1]]"));
        Pair("polygons empty", CocoGroundTruth("[]"));
        Pair("segmentation a string", CocoGroundTruth("\"x\""));
        Pair("segmentation null", CocoGroundTruth("null"));
        Pair("width negative", CocoGroundTruth("[[0,0,0,3,3,3]]", """{"id":1,"width":-4,"height":4}"""));
        Pair("width 2^31", CocoGroundTruth("[[0,0,0,3,3,3]]", """{"id":1,"width":2147483648,"height":4}"""));
        Pair("width 2^31-1 x 2^31-1", CocoGroundTruth("[[0,0,0,3,3,3]]", """{"id":1,"width":2147483647,"height":2147483647}"""));
        Pair("width 100000 x 100000", CocoGroundTruth("[[0,0,0,3,3,3]]", """{"id":1,"width":100000,"height":100000}"""));
        Pair("width a string", CocoGroundTruth("[[0,0,0,3,3,3]]", """{"id":1,"width":"4","height":4}"""));
        Pair("width 1e30", CocoGroundTruth("[[0,0,0,3,3,3]]", """{"id":1,"width":1e30,"height":4}"""));
        Pair("width 4.5", CocoGroundTruth("[[0,0,0,3,3,3]]", """{"id":1,"width":4.5,"height":4}"""));
        Pair("image id 1e30", CocoGroundTruth("[[0,0,0,3,3,3]]", """{"id":1e30,"width":4,"height":4}"""));
        Pair("annotation id 1e30", CocoGroundTruth("[[0,0,0,3,3,3]]", extra: "\"iscrowd\":0,\"area\":9,\"id\":1e30"));
        Pair("iscrowd 1e10", CocoGroundTruth("[[0,0,0,3,3,3]]", extra: "\"iscrowd\":1e10,\"area\":9,\"id\":1"));
        Pair("iscrowd -1", CocoGroundTruth("[[0,0,0,3,3,3]]", extra: "\"iscrowd\":-1,\"area\":9,\"id\":1"));
        Pair("iscrowd true", CocoGroundTruth("[[0,0,0,3,3,3]]", extra: "\"iscrowd\":true,\"area\":9,\"id\":1"));
        Pair("area NaN string", CocoGroundTruth("[[0,0,0,3,3,3]]", extra: "\"iscrowd\":0,\"area\":\"NaN\",\"id\":1"));
        Pair("area -1e308", CocoGroundTruth("[[0,0,0,3,3,3]]", extra: "\"iscrowd\":0,\"area\":-1e308,\"id\":1"));
        Pair("RLE counts bad characters", CocoGroundTruth("""{"size":[4,4],"counts":"!!!~~~"}"""));
        Pair("RLE counts sum past the size", CocoGroundTruth("""{"size":[4,4],"counts":[0,1000000]}"""));
        Pair("RLE counts negative", CocoGroundTruth("""{"size":[4,4],"counts":[-5,21]}"""));
        Pair("RLE counts 2^31", CocoGroundTruth("""{"size":[4,4],"counts":[2147483648]}"""));
        Pair("RLE size 2^31", CocoGroundTruth("""{"size":[2147483647,2147483647],"counts":[0,1]}"""));
        Pair("RLE size negative", CocoGroundTruth("""{"size":[-4,-4],"counts":[0,16]}"""));
        Pair("RLE size wrong arity", CocoGroundTruth("""{"size":[4],"counts":[0,16]}"""));
        Pair("RLE compressed string, huge run", CocoGroundTruth("{\"size\":[4,4],\"counts\":\"" + new string('o', 3000) + "\"}"));
        Pair("RLE counts a number", CocoGroundTruth("""{"size":[4,4],"counts":7}"""));
        Pair("RLE size differs from the image", CocoGroundTruth("""{"size":[8,8],"counts":[0,64]}"""));
        Pair("category missing", Encoding.UTF8.GetBytes("""{"images":[{"id":1,"width":4,"height":4}],"annotations":[{"id":1,"image_id":1,"category_id":99,"segmentation":[[0,0,0,3,3,3]],"iscrowd":0}],"categories":[]}"""));
        Pair("annotations an object", Encoding.UTF8.GetBytes("""{"images":[],"annotations":{},"categories":{}}"""));
        Pair("ground truth []", "[]"u8.ToArray());
        Pair("ground truth empty", []);
        Pair("ground truth truncated", CocoGroundTruth("[[0,0,0,3,3,3,3,0]]")[..40]);
        Pair("ground truth nested 10000 deep", Encoding.UTF8.GetBytes(new string('[', 10_000) + new string(']', 10_000)));
        Pair("ground truth 100000 images", Encoding.UTF8.GetBytes("""{"images":[""" + string.Join(',', Enumerable.Range(1, 100_000).Select(i => $$"""{"id":{{i}},"width":4000,"height":4000}""")) + """],"annotations":[],"categories":[{"id":1,"name":"a"}]}"""));
        Pair("predictions {\"instances\":{}}", CocoGroundTruth("[[0,0,0,3,3,3]]"), """{"instances":{}}""");
        Pair("predictions {\"instances\":[{}]}", CocoGroundTruth("[[0,0,0,3,3,3]]"), """{"instances":[{}]}""");
        Pair("predictions {\"instances\":null}", CocoGroundTruth("[[0,0,0,3,3,3]]"), """{"instances":null}""");
        Pair("predictions {}", CocoGroundTruth("[[0,0,0,3,3,3]]"), "{}");
        Pair("predictions score a string", CocoGroundTruth("[[0,0,0,3,3,3]]"), """[{"image_id":1,"category_id":1,"segmentation":{"size":[4,4],"counts":"0`0"},"score":"high"}]""");
        Pair("predictions score 1e308", CocoGroundTruth("[[0,0,0,3,3,3]]"), """[{"image_id":1,"category_id":1,"segmentation":{"size":[4,4],"counts":"0`0"},"score":1e308}]""");
        Pair("predictions image id 1e30", CocoGroundTruth("[[0,0,0,3,3,3]]"), """[{"image_id":1e30,"category_id":1,"segmentation":{"size":[4,4],"counts":"0`0"},"score":0.5}]""");
        Pair("predictions RLE bad counts", CocoGroundTruth("[[0,0,0,3,3,3]]"), """[{"image_id":1,"category_id":1,"segmentation":{"size":[4,4],"counts":"\u0000\u0001"},"score":0.5}]""");
        Pair("predictions RLE size 2^31", CocoGroundTruth("[[0,0,0,3,3,3]]"), """[{"image_id":1,"category_id":1,"segmentation":{"size":[2147483647,2147483647],"counts":"0`0"},"score":0.5}]""");
        Pair("predictions polygon bomb", CocoGroundTruth("[[0,0,0,3,3,3]]"), """[{"image_id":1,"category_id":1,"segmentation":[[0,0,0,-3e8,1,0]],"score":0.5}]""");
        Pair("predictions 20000 detections", CocoGroundTruth("[[0,0,0,3,3,3]]"), "[" + string.Join(',', Enumerable.Repeat("""{"image_id":1,"category_id":1,"segmentation":{"size":[4,4],"counts":"0`0"},"score":0.5}""", 20_000)) + "]");
        Pair("instance response, id png as ground truth missing classMap", SampleImages.LabelMap(4, 4, (x, _) => x), """{"instances":[{"classId":1,"score":0.9,"mask":{"size":[4,4],"counts":"0`0"}}]}""", "?imageId=1");
        Files("eval-coco", "instance-id PNG 65535 instances with classMap", "/v1/evaluate/instances?imageId=1",
            ("predictions", "p.json", "application/json", """{"instances":[]}"""u8.ToArray()),
            ("groundTruth", "ids.png", "image/png", SampleImages.LabelMap(256, 256, (x, y) => (y * 256 + x) % 65536)),
            ("classMap", "c.png", "image/png", SampleImages.LabelMap(256, 256, (x, _) => x % 3)));
        Files("eval-coco", "instances sample into the instances run", "/v1/evaluations/" + InstancesRun + "/samples",
            ("predictions", "p.json", "application/json", """{"instances":{}}"""u8.ToArray()), ("groundTruth", "g.json", "application/json", CocoGroundTruth("[[0,0,0,-3e8,1,0]]")));
        Add(new HostileRequest { Id = 0, Category = "eval-coco", Name = "GET the instances run", Method = "GET", Path = "/v1/evaluations/" + InstancesRun });
    }

    private void EvalZip()
    {
        string path = "/v1/evaluations/" + SemanticRun + "/samples";
        byte[] label0 = SampleImages.LabelMap(2, 2, (x, _) => x % 2);
        byte[] label1 = SampleImages.LabelMap(2, 2, (_, y) => y % 2);
        List<Crafted.ZipEntrySpec> Pairs(int count, ushort method = 8)
        {
            var entries = new List<Crafted.ZipEntrySpec>(count * 2);
            for (int i = 0; i < count; i++)
            {
                string name = i.ToString("D5", CultureInfo.InvariantCulture) + ".png";
                entries.Add(new Crafted.ZipEntrySpec("groundTruth/" + name, label0) { Method = method });
                entries.Add(new Crafted.ZipEntrySpec("prediction/" + name, label1) { Method = method });
            }

            return entries;
        }

        void Zip(string name, byte[] zip) => Files("eval-zip", name, path, ("archive", "a.zip", "application/zip", zip));

        Zip("control: 3 pairs", Crafted.Zip(Pairs(3)));
        Zip("5000 pairs", Crafted.Zip(Pairs(5000, method: 0)));
        Zip("1000 pairs (the default limit)", Crafted.Zip(Pairs(1000, method: 0)));
        Zip("5001 pairs", Crafted.Zip(Pairs(5001, method: 0)));
        List<Crafted.ZipEntrySpec> crc = Pairs(2);
        crc[1] = crc[1] with { CrcOverride = 0xDEADBEEF };
        Zip("CRC mismatch", Crafted.Zip(crc));
        List<Crafted.ZipEntrySpec> crcStored = Pairs(2, method: 0);
        crcStored[0] = crcStored[0] with { CrcOverride = 0 };
        Zip("CRC mismatch, stored", Crafted.Zip(crcStored));
        List<Crafted.ZipEntrySpec> encrypted = Pairs(2);
        encrypted[0] = encrypted[0] with { Flags = 1 };
        Zip("encrypted entry (flag bit 0)", Crafted.Zip(encrypted));
        List<Crafted.ZipEntrySpec> aes = Pairs(2);
        aes[2] = aes[2] with { Method = 99, Flags = 1 };
        Zip("AES entry (method 99)", Crafted.Zip(aes));
        foreach (ushort method in new ushort[] { 1, 6, 9, 12, 14, 93, 95, 65535 })
        {
            List<Crafted.ZipEntrySpec> odd = Pairs(2);
            odd[1] = odd[1] with { Method = method };
            Zip($"unsupported compression method {method}", Crafted.Zip(odd));
        }

        List<Crafted.ZipEntrySpec> corrupt = Pairs(2);
        corrupt[0] = corrupt[0] with { RawDataOverride = [0xFF, 0xFF, 0xFF, 0x00, 0x01, 0x02, 0x03] };
        Zip("corrupt deflate", Crafted.Zip(corrupt));
        List<Crafted.ZipEntrySpec> cut = Pairs(2);
        cut[3] = cut[3] with { RawDataOverride = Crafted.Deflate(label1)[..5] };
        Zip("deflate stream cut short", Crafted.Zip(cut));
        List<Crafted.ZipEntrySpec> liar = Pairs(2);
        liar[0] = liar[0] with { UncompressedSizeOverride = 10 };
        Zip("uncompressed size understated", Crafted.Zip(liar));
        List<Crafted.ZipEntrySpec> bomb = Pairs(1);
        bomb.Add(new Crafted.ZipEntrySpec("groundTruth/bomb.png", new byte[64 * 1024 * 1024]) { UncompressedSizeOverride = 100 });
        bomb.Add(new Crafted.ZipEntrySpec("prediction/bomb.png", label1));
        Zip("64 MiB of zeros claiming 100 bytes", Crafted.Zip(bomb));
        List<Crafted.ZipEntrySpec> bigPng = Pairs(1);
        bigPng.Add(new Crafted.ZipEntrySpec("groundTruth/big.png", Crafted.UniformGreyPng(8000, 5000, 0)));
        bigPng.Add(new Crafted.ZipEntrySpec("prediction/big.png", Crafted.UniformGreyPng(8000, 5000, 1)));
        Files("eval-zip", "pair of 8000x5000 label maps", path, validPixels: 80_000_000, ("archive", "a.zip", "application/zip", Crafted.Zip(bigPng)));
        Zip("traversal names", Crafted.Zip([new("../../groundTruth/a.png", label0), new("/etc/prediction/a.png", label1), new("groundTruth/..\\..\\b.png", label0)]));
        Zip("unpaired files", Crafted.Zip([new("groundTruth/a.png", label0), new("prediction/b.png", label1)]));
        Zip("duplicate names", Crafted.Zip([new("groundTruth/a.png", label0), new("groundTruth/a.png", label1), new("prediction/a.png", label1)]));
        Zip("no entries", Crafted.Zip([]));
        Zip("declares 65535 entries, holds 2", Crafted.Zip(Pairs(1), declaredCount: 65535));
        Zip("central directory cut", Crafted.Zip(Pairs(3), truncateDirectory: true));
        Zip("zip inside a zip", Crafted.Zip([new("groundTruth/a.zip", Crafted.Zip(Pairs(2))), new("prediction/a.zip", Crafted.Zip(Pairs(2)))]));
        Zip("entries are not PNGs", Crafted.Zip([new("groundTruth/a.png", "text"u8.ToArray()), new("prediction/a.png", "text"u8.ToArray())]));
        Zip("not a zip", "PK\u0003\u0004 not really"u8.ToArray());
        Zip("empty archive part", []);
        byte[] whole = Crafted.Zip(Pairs(5));
        for (int i = 0; i < 12; i++)
        {
            int at = _random.Next(whole.Length);
            byte[] flipped = (byte[])whole.Clone();
            flipped[at] ^= (byte)(1 << _random.Next(8));
            Zip($"bit flip at {at}", flipped);
        }

        Files("eval-zip", "zip to the one-shot semantic endpoint", "/v1/evaluate/semantic?numClasses=2", ("archive", "a.zip", "application/zip", Crafted.Zip(Pairs(2))));
        Files("eval-zip", "zip into the instances run", "/v1/evaluations/" + InstancesRun + "/samples", ("archive", "a.zip", "application/zip", Crafted.Zip(Pairs(2))));
    }

    // ------------------------------------------------------------------------------------------------ concurrency and keys

    private void Slow(byte[] jpeg)
    {
        (byte[] body, string contentType) = Crafted.Multipart(Boundary(), ("image", "a.jpg", "image/jpeg", jpeg));
        byte[] message = Crafted.RawRequest("POST /v1/models/selfie/segment HTTP/1.1", ["Content-Type: " + contentType], body);
        // 1 byte every 50 ms (20 B/s, under Kestrel's 240 B/s minimum), 64 bytes every 100 ms (640 B/s), and 1 byte per second of headers
        for (int i = 0; i < 4; i++)
        {
            Add(new HostileRequest { Id = 0, Category = "slow", Name = $"slow body 20 B/s #{i}", Transport = Transport.Slow, Body = message, SlowChunkBytes = 1, SlowPauseMs = 50 });
        }

        for (int i = 0; i < 4; i++)
        {
            Add(new HostileRequest { Id = 0, Category = "slow", Name = $"slow body 640 B/s #{i}", Transport = Transport.Slow, Body = message, SlowChunkBytes = 64, SlowPauseMs = 100 });
        }

        byte[] headersOnly = "GET /v1/models HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n\r\n"u8.ToArray();
        for (int i = 0; i < 4; i++)
        {
            Add(new HostileRequest { Id = 0, Category = "slow", Name = $"slow headers 1 B/s #{i}", Transport = Transport.Slow, Body = headersOnly, SlowChunkBytes = 1, SlowPauseMs = 1000 });
        }
    }

    private void Spikes(byte[] jpeg)
    {
        // run together, all at once (the runner starts every request of this category at the same moment)
        for (int i = 0; i < 200; i++)
        {
            Upload("spike", $"spike #{i}", jpeg, "image/jpeg", path: i % 4 == 3 ? "/v1/models/selfie/overlay?format=jpeg" : "/v1/models/selfie/segment");
        }
    }

    private void Auth(byte[] jpeg)
    {
        foreach ((string name, string header, string value) in new[]
        {
            ("unknown X-Api-Key", "X-Api-Key", "not-a-key"), ("empty X-Api-Key", "X-Api-Key", ""), ("X-Api-Key 8 KiB", "X-Api-Key", new string('k', 8192)),
            ("Bearer garbage", "Authorization", "Bearer !!!"), ("Basic scheme", "Authorization", "Basic dXNlcjpwYXNz"), ("Bearer without token", "Authorization", "Bearer"),
            ("unicode key", "X-Api-Key", "ключ"), ("key with NUL escape", "X-Api-Key", "a%00b"),
        })
        {
            Upload("auth", name, jpeg, "image/jpeg", headers: [new(header, value)]);
        }

        Add(new HostileRequest { Id = 0, Category = "auth", Name = "reload without admin", Path = "/v1/models/selfie/reload", Body = [], ContentType = "application/json" });
    }
}
