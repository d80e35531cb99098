let total = 0, line = "";
for (let i = 0; i < 2000000; i++) {
  line = line + `item-${i}:${i * 7},`;
  if (line.length > 200) { total += line.split(",").length + line.length; line = ""; }
}
console.log(String(total));
