using System.IO.Compression;
using System.Text;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.Formats;
using SixLabors.ImageSharp.Formats.Bmp;
using SixLabors.ImageSharp.Formats.Gif;
using SixLabors.ImageSharp.Formats.Jpeg;
using SixLabors.ImageSharp.Formats.Png;
using SixLabors.ImageSharp.Formats.Tga;
using SixLabors.ImageSharp.Formats.Tiff;
using SixLabors.ImageSharp.Formats.Webp;
using SixLabors.ImageSharp.PixelFormats;

namespace SegServe.Fuzz;

/// <summary>Small valid inputs of each target, so AFL starts from every format and shape the code reads.</summary>
internal static class Seeds
{
    public static void Write(string root)
    {
        string decode = Directory.CreateDirectory(Path.Combine(root, "decode")).FullName;
        using (var image = new Image<Rgb24>(8, 6))
        {
            for (int y = 0; y < image.Height; y++)
            {
                for (int x = 0; x < image.Width; x++)
                {
                    image[x, y] = new Rgb24((byte)(x * 30), (byte)(y * 40), (byte)((x + y) * 15));
                }
            }

            (string Name, IImageEncoder Encoder)[] encoders =
            [
                ("seed.png", new PngEncoder()),
                ("seed-palette.png", new PngEncoder { ColorType = PngColorType.Palette }),
                ("seed-grey16.png", new PngEncoder { ColorType = PngColorType.Grayscale, BitDepth = PngBitDepth.Bit16 }),
                ("seed.jpg", new JpegEncoder { Quality = 50 }),
                ("seed.webp", new WebpEncoder { FileFormat = WebpFileFormatType.Lossy }),
                ("seed-lossless.webp", new WebpEncoder { FileFormat = WebpFileFormatType.Lossless }),
                ("seed.gif", new GifEncoder()),
                ("seed.bmp", new BmpEncoder()),
                ("seed.tif", new TiffEncoder()),
                ("seed.tga", new TgaEncoder()),
            ];
            foreach ((string name, IImageEncoder encoder) in encoders)
            {
                image.Save(Path.Combine(decode, name), encoder);
            }
        }

        string coco = Directory.CreateDirectory(Path.Combine(root, "coco")).FullName;
        File.WriteAllText(Path.Combine(coco, "polygons.json"), """
            {"images":[{"id":1,"height":10,"width":12}],"categories":[{"id":1,"name":"a"},{"id":2,"name":"b"}],
             "annotations":[{"id":1,"image_id":1,"category_id":1,"iscrowd":0,"segmentation":[[1,1,8,1,8,7,1,7]]},
                            {"id":2,"image_id":1,"category_id":2,"iscrowd":1,"segmentation":{"size":[10,12],"counts":[30,5,85]}}],
             "instances":[{"classId":1,"score":0.9,"mask":{"size":[10,12],"counts":[40,6,74]}}]}
            """);
        File.WriteAllText(Path.Combine(coco, "results.json"), """
            [{"image_id":1,"category_id":1,"score":0.5,"segmentation":[[0,0,5,0,5,5]],
              "images":[{"id":1,"height":4,"width":4}],"annotations":[]}]
            """);
        File.WriteAllText(Path.Combine(coco, "rle.json"), """
            {"images":[{"id":7,"height":3,"width":3}],"annotations":[{"image_id":7,"category_id":3,"area":4,"segmentation":{"size":[3,3],"counts":"223"}}],
             "instances":[{"classId":3,"score":1,"mask":{"size":[3,3],"counts":[2,2,5]}}]}
            """);

        string zip = Directory.CreateDirectory(Path.Combine(root, "zip")).FullName;
        WriteZip(Path.Combine(zip, "pairs.zip"), CompressionLevel.Optimal, ("groundTruth/a.png", "GT-A"), ("prediction/a.png", "PR-A"), ("gt/b.png", "GT-B"), ("images/b.jpg", "IM-B"));
        WriteZip(Path.Combine(zip, "stored.zip"), CompressionLevel.NoCompression, ("labels/x.png", "xxxx"), ("pred/x.png", "yyyy"));
    }

    private static void WriteZip(string path, CompressionLevel level, params (string Name, string Text)[] entries)
    {
        using FileStream file = File.Create(path);
        using var archive = new ZipArchive(file, ZipArchiveMode.Create);
        foreach ((string name, string text) in entries)
        {
            ZipArchiveEntry entry = archive.CreateEntry(name, level);
            using Stream stream = entry.Open();
            stream.Write(Encoding.ASCII.GetBytes(text));
        }
    }
}
