// Renders an ESC/POS byte stream's GS v 0 raster images to one PNG, with the
// third-party decoder npos (our crate's encoder is what is under test, so the
// decoding must not be ours). Prints a JSON summary on stdout.
//   node render.js INPUT.bin OUTPUT.png
'use strict';
const fs = require('fs');
const npos = require('npos');
const { PNG } = require('pngjs');

const [input, output] = process.argv.slice(2);
if (!input || !output) {
  console.error('usage: node render.js INPUT.bin OUTPUT.png');
  process.exit(2);
}
const raw = fs.readFileSync(input);
npos.parser().parse(raw).then((ast) => {
  // npos groups consecutive GS v 0 bands into one raster entry (one bitmap).
  const images = ast.entries.filter((e) => e.type === 'raster').map((e) => e.data);
  if (images.length === 0) throw new Error('no GS v 0 raster image in ' + input);
  const width = Math.max(...images.map((i) => i.width));
  const height = images.reduce((h, i) => h + i.height, 0);
  const png = new PNG({ width, height });
  png.data.fill(255);
  let top = 0;
  for (const img of images) {
    for (let y = 0; y < img.height; y++) {
      for (let x = 0; x < img.width; x++) {
        const v = img.getPixel(x, y) & 0xff;
        const i = ((top + y) * width + x) * 4;
        png.data[i] = png.data[i + 1] = png.data[i + 2] = v;
      }
    }
    top += img.height;
  }
  fs.writeFileSync(output, PNG.sync.write(png));
  const commands = ast.tree.map((n) => n.ascii + (n.fn || ''));
  console.log(JSON.stringify({ width, height, images: images.length, commands }));
}).catch((e) => {
  console.error((e && e.stack) || String(e));
  process.exit(1);
});
